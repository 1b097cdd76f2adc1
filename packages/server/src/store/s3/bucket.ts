import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isBackendUnavailable } from '../backend-errors.js';
import type { S3Location } from './client.js';
import type { Part, Piece } from './layout.js';

/** Bytes of a part or an object being assembled: pieces read back from S3, or bytes in memory. */
export type Segment = Piece | Uint8Array;

/** Attempts at an upload (the SDK does not retry streamed bodies: this code does). */
const ATTEMPTS = 3;

/**
 * The S3 requests the blob store makes, over one bucket and prefix:
 *
 *   PREFIX objects/BLOB                 the object (the target of the session's multipart upload)
 *   PREFIX pieces/BLOB/OFFSET-RANDOM    bytes that do not fill a part yet; never overwritten
 */
export class S3Bucket {
  constructor(
    readonly s3: S3Client,
    readonly location: S3Location,
  ) {}

  /** Where objects and pieces live: `objects/` and `pieces/` under the prefix. */
  root(kind: 'objects' | 'pieces'): string {
    return `${this.location.prefix}${kind}/`;
  }

  objectKey(blobId: string): string {
    return `${this.root('objects')}${blobId}`;
  }

  piecesPrefix(blobId: string): string {
    return `${this.root('pieces')}${blobId}/`;
  }

  /** A fresh key for a piece starting at `start`: a rewrite never replaces a recorded piece. */
  pieceKey(blobId: string, start: number): string {
    return `${this.piecesPrefix(blobId)}${String(start).padStart(16, '0')}-${randomBytes(6).toString('hex')}`;
  }

  private get Bucket(): string {
    return this.location.bucket;
  }

  async putObject(key: string, segments: readonly Segment[], size: number): Promise<void> {
    await this.withBody(segments, (Body) =>
      this.s3.send(
        new PutObjectCommand({ Bucket: this.Bucket, Key: key, Body, ContentLength: size }),
      ),
    );
  }

  async createUpload(key: string): Promise<string> {
    const { UploadId } = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: this.Bucket, Key: key }),
    );
    if (!UploadId) throw new Error('S3 answered CreateMultipartUpload without an UploadId');
    return UploadId;
  }

  /** Uploads part `n` and returns its ETag. */
  async uploadPart(
    key: string,
    uploadId: string,
    n: number,
    segments: readonly Segment[],
    size: number,
  ): Promise<string> {
    const { ETag } = await this.withBody(segments, (Body) =>
      this.s3.send(
        new UploadPartCommand({
          Bucket: this.Bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: n,
          Body,
          ContentLength: size,
        }),
      ),
    );
    if (!ETag) throw new Error(`S3 answered UploadPart ${n} without an ETag`);
    return ETag;
  }

  async completeUpload(key: string, uploadId: string, parts: readonly Part[]): Promise<void> {
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.Bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p, i) => ({ PartNumber: i + 1, ETag: p.etag })) },
      }),
    );
  }

  /** An object's size, or undefined if there is none. */
  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.Bucket, Key: key }));
      return head.ContentLength;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async read(key: string, start: number, end: number): Promise<Readable> {
    const { Body } = await this.s3.send(
      new GetObjectCommand({ Bucket: this.Bucket, Key: key, Range: `bytes=${start}-${end}` }),
    );
    if (!(Body instanceof Readable)) throw new Error('S3 answered GetObject without a body');
    return Body;
  }

  async deleteObject(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.Bucket, Key: key }));
  }

  async deleteObjects(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const { Errors } = await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.Bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = (Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0)
        throw new Error(`S3 could not delete ${failed[0]!.Key}: ${failed[0]!.Message}`);
    }
  }

  /** Every object under `prefix`, with when it was written. */
  async *list(prefix: string): AsyncIterable<{ key: string; written: number }> {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.Bucket, Prefix: prefix, ContinuationToken }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key !== undefined) yield { key: o.Key, written: o.LastModified?.getTime() ?? 0 };
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /** Every multipart upload in progress under `prefix`, with when it started. */
  async *uploads(
    prefix: string,
  ): AsyncIterable<{ key: string; uploadId: string; started: number }> {
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    do {
      const page = await this.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: this.Bucket,
          Prefix: prefix,
          KeyMarker,
          UploadIdMarker,
        }),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key !== undefined && u.UploadId !== undefined)
          yield { key: u.Key, uploadId: u.UploadId, started: u.Initiated?.getTime() ?? 0 };
      }
      const more = page.IsTruncated === true;
      KeyMarker = more ? page.NextKeyMarker : undefined;
      UploadIdMarker = more ? page.NextUploadIdMarker : undefined;
    } while (KeyMarker);
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.s3.send(
        new AbortMultipartUploadCommand({ Bucket: this.Bucket, Key: key, UploadId: uploadId }),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Aborts every multipart upload to `key`: those a crash left unrecorded as well. */
  async abortUploads(key: string): Promise<void> {
    for await (const upload of this.uploads(key))
      if (upload.key === key) await this.abortUpload(key, upload.uploadId);
  }

  /**
   * Sends `segments` as one body of `size` bytes, streamed: bytes in memory as they are (no
   * copy into one buffer), pieces read back from S3. A failed attempt is retried with a new
   * stream; bytes in memory stay there until the upload is done.
   */
  private async withBody<T>(
    segments: readonly Segment[],
    send: (body: Readable) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send(Readable.from(this.stream(segments), { objectMode: false }));
      } catch (error) {
        if (attempt >= ATTEMPTS || !isBackendUnavailable(error)) throw error;
      }
    }
  }

  private async *stream(segments: readonly Segment[]): AsyncIterable<Uint8Array> {
    for (const segment of segments) {
      if (segment instanceof Uint8Array) yield segment;
      else if (segment.size > 0)
        yield* (await this.read(segment.key, 0, segment.size - 1)) as AsyncIterable<Buffer>;
    }
  }
}

export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.$metadata?.httpStatusCode === 404 || e?.name === 'NotFound' || e?.name === 'NoSuchKey';
}
