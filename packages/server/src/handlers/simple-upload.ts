import { parseGoogHash, parsePreconditions, type DeclaredHashes } from '@spool/core';
import { uploadBody, type BodyEnd, type BodyReader, type ChunkSource } from '../http/body.js';
import { header, type Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import {
  MultipartError,
  MultipartRelatedParser,
  multipartBoundary,
  type MultipartEvent,
} from '../http/multipart-related.js';
import { sendError } from '../http/respond.js';
import type { Services } from '../services.js';
import { storeOneShot } from '../upload/one-shot.js';
import { customMetadataHeaders, requireBucket, sendCompleted } from './common.js';
import { MAX_METADATA_BODY, parseMetadataJson, resolveObjectName } from './initiation.js';

function declaredHash(ctx: Context): DeclaredHashes {
  const hashes = parseGoogHash(header(ctx, 'x-goog-hash'));
  if (!hashes.ok) throw new HttpError(hashes.error);
  return hashes.value;
}

function contentLength(ctx: Context): number | undefined {
  const value = header(ctx, 'content-length');
  return value === undefined ? undefined : Number(value);
}

/** `POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name=…`: the body is the object. */
export async function mediaUpload(app: Services, ctx: Context, bucket: string): Promise<void> {
  await requireBucket(app, bucket);
  const name = resolveObjectName(ctx.query.get('name'), undefined);
  const preconditions = parsePreconditions((n) => ctx.query.get(n));
  if (!preconditions.ok) throw new HttpError(preconditions.error);
  const hashes = declaredHash(ctx);
  const contentType = header(ctx, 'content-type');
  const result = await storeOneShot(app, uploadBody(ctx.req, app.limits), {
    kind: 'media',
    bucket,
    name,
    metadata: contentType ? { contentType } : {},
    customMetadata: customMetadataHeaders(ctx.req.headers),
    size: contentLength(ctx),
    declaredHashes: [hashes],
    preconditions: preconditions.value,
    interrupt: ctx.faults.upload(),
  });
  if (!result.ok) return sendError(ctx, result.error);
  await sendCompleted(ctx, result.object);
}

/**
 * `POST /upload/storage/v1/b/{bucket}/o?uploadType=multipart`: a multipart/related body of JSON
 * metadata and the media, streamed: the media part is never held whole.
 */
export async function multipartUpload(app: Services, ctx: Context, bucket: string): Promise<void> {
  await requireBucket(app, bucket);
  const boundary = multipartBoundary(header(ctx, 'content-type'));
  if (boundary instanceof MultipartError) throw badRequest(boundary.message);
  const preconditions = parsePreconditions((n) => ctx.query.get(n));
  if (!preconditions.ok) throw new HttpError(preconditions.error);
  const hashes = declaredHash(ctx);
  const source = new MultipartMedia(
    uploadBody(ctx.req, app.limits),
    new MultipartRelatedParser(boundary, MAX_METADATA_BODY),
  );
  const parts = await source.readHeads();
  const metadata = parseMetadataJson(parts.metadata);
  const name = resolveObjectName(ctx.query.get('name'), metadata.name);
  const { name: _name, crc32c, md5Hash, ...objectMetadata } = metadata;
  const contentType = objectMetadata.contentType ?? parts.mediaType;
  const result = await storeOneShot(app, source, {
    kind: 'multipart',
    bucket,
    name,
    metadata: { ...objectMetadata, ...(contentType ? { contentType } : {}) },
    size: undefined,
    declaredHashes: [
      hashes,
      { ...(crc32c !== undefined && { crc32c }), ...(md5Hash !== undefined && { md5Hash }) },
    ],
    preconditions: preconditions.value,
    interrupt: ctx.faults.upload(),
  });
  if (!result.ok) return sendError(ctx, source.problem ?? result.error);
  await sendCompleted(ctx, result.object);
}

/** The media part of a multipart body as a chunk source, after its metadata part has been read. */
class MultipartMedia implements ChunkSource {
  private queue: Buffer[] = [];
  private ended = false;
  /** Set when the body was not a valid two-part multipart body. */
  problem: ReturnType<typeof badRequest>['error'] | undefined;

  constructor(
    private readonly body: BodyReader,
    private readonly parser: MultipartRelatedParser,
  ) {}

  /** Reads up to the start of the media part: the metadata, and the media's Content-Type. */
  async readHeads(): Promise<{ metadata: Buffer; mediaType: string | undefined }> {
    let metadata: Buffer | undefined;
    while (true) {
      const chunk = await this.body.next();
      if (typeof chunk === 'string') {
        throw badRequest(
          'The multipart body ended before its media part: send a JSON metadata part and a media part.',
        );
      }
      for (const event of this.feed(chunk)) {
        if (event.kind === 'metadata') metadata = event.body;
        if (event.kind === 'media-headers')
          return {
            metadata: metadata ?? Buffer.alloc(0),
            mediaType: event.headers['content-type'],
          };
      }
    }
  }

  private feed(chunk: Buffer): MultipartEvent[] {
    let events: MultipartEvent[];
    try {
      events = this.parser.push(chunk);
    } catch (error) {
      if (error instanceof MultipartError) throw badRequest(error.message);
      throw error;
    }
    for (const event of events) {
      if (event.kind === 'media') this.queue.push(event.bytes);
      if (event.kind === 'end') this.ended = true;
    }
    return events;
  }

  async next(): Promise<Buffer | BodyEnd> {
    while (true) {
      const queued = this.queue.shift();
      if (queued) return queued;
      if (this.ended) return 'complete';
      const chunk = await this.body.next();
      if (chunk === 'complete') {
        // The HTTP body ended but the multipart body did not close: a truncated or malformed body.
        try {
          this.parser.finish();
        } catch (error) {
          this.problem = badRequest((error as Error).message).error;
        }
        return 'interrupted';
      }
      if (typeof chunk === 'string') return chunk;
      try {
        this.feed(chunk);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        this.problem = error.error;
        this.body.stop('interrupted');
        return 'interrupted';
      }
    }
  }

  stop(reason: BodyEnd): void {
    this.body.stop(reason);
  }
}
