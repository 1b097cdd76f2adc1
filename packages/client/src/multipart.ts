import {
  formatGoogHash,
  type ObjectMetadata,
  type Preconditions,
  type UploadChecksums,
  uniqueNames,
} from '@spool/core';
import { urls } from './destination.js';
import { InvalidOptionsError, type RequestContext } from './errors.js';
import { missingBucketHint, preconditionQuery } from './initiation.js';
import type { RequestBody } from './transport.js';

// A whole object in one request (uploadType=multipart): a JSON metadata part, then the media
// part. Small objects go this way to save the session's round trip and its records on the
// server; as Google's clients do below 8 MiB (Python) or 16 MiB (Go). Nothing to resume: a
// failed request is sent again whole.

export interface MultipartRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The bytes before the media: the boundary, the metadata part, the media part's headers. */
  readonly head: Uint8Array<ArrayBuffer>;
  /** The closing boundary. */
  readonly tail: Uint8Array<ArrayBuffer>;
  readonly context: RequestContext;
  /** What to suggest when the answer is 404. */
  readonly notFoundHint: string;
}

/** Checks the `multipartThreshold` option: a whole number of bytes, 0 for never. */
export function validateMultipartThreshold(threshold: number | undefined): void {
  if (threshold === undefined) return;
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw new InvalidOptionsError(
      `multipartThreshold must be a whole number of bytes ≥ 0 (0: always a resumable session), such as 8388608 for 8 MiB; got ${threshold}.`,
    );
  }
}

/** A boundary that a body cannot contain by chance. */
const nextBoundary = uniqueNames();

/**
 * The request for an object of known `hashes`: they go in X-Goog-Hash, so that the server
 * refuses bytes that changed on the way before it creates the object.
 */
export function multipartRequest(
  endpoint: string,
  names: { readonly bucket: string; readonly object: string },
  metadata: ObjectMetadata,
  preconditions: Preconditions,
  hashes: UploadChecksums,
  boundary: string = nextBoundary(),
): MultipartRequest {
  const { bucket, object } = names;
  const url = `${urls.insert(endpoint, bucket)}?uploadType=multipart${preconditionQuery(preconditions)}`;
  const json = JSON.stringify({ ...metadata, name: object });
  const mediaType = metadata.contentType ?? 'application/octet-stream';
  const encoder = new TextEncoder();
  return {
    url,
    headers: {
      'content-type': `multipart/related; boundary=${boundary}`,
      'x-goog-hash': formatGoogHash(hashes),
    },
    head: encoder.encode(
      `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${json}\r\n` +
        `--${boundary}\r\nContent-Type: ${mediaType}\r\n\r\n`,
    ),
    tail: encoder.encode(`\r\n--${boundary}--\r\n`),
    context: { method: 'POST', what: `uploading gs://${bucket}/${object} in one request`, url },
    notFoundHint: missingBucketHint(endpoint, bucket),
  };
}

/** Media up to this size goes in one piece with the head and tail: one write instead of three. */
const ONE_PIECE = 64 * 1024;

/** The request's body: its head, the media, its tail. */
export function multipartBody(request: MultipartRequest, media: RequestBody): RequestBody {
  const { head, tail } = request;
  const length = head.length + media.length + tail.length;
  return {
    length,
    ...(media.blob && { blob: new Blob([head, media.blob, tail]) }),
    chunks:
      media.length <= ONE_PIECE
        ? (async function* () {
            const whole = new Uint8Array(length);
            whole.set(head);
            let at = head.length;
            for await (const piece of media.chunks) {
              whole.set(piece, at);
              at += piece.length;
            }
            whole.set(tail, at);
            yield whole;
          })()
        : (async function* () {
            yield head;
            yield* media.chunks;
            yield tail;
          })(),
  };
}

/** How many of the media's `size` bytes are in the first `sent` bytes of the body. */
export function mediaBytesSent(request: MultipartRequest, size: number, sent: number): number {
  return Math.min(size, Math.max(0, sent - request.head.length));
}
