import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BlobState, BlobStore, BlobWriter, WriterStart } from '../types.js';
import { isNotFound, S3Bucket } from './bucket.js';
import type { S3Location } from './client.js';
import { layoutFromState, layoutSize, partsSize } from './layout.js';
import { S3BlobWriter } from './writer.js';

/**
 * Blobs in an S3 bucket. A session's bytes are a multipart upload plus pieces, as its record's
 * layout says (see S3BlobWriter); sealing completes the upload into one object, which reads serve
 * with ranged GETs. Everything else under a blob's keys is a leftover of a crash, removed when
 * the blob is sealed or deleted.
 */
export class S3BlobStore implements BlobStore {
  private readonly bucket: S3Bucket;

  private constructor(s3: S3Client, location: S3Location) {
    this.bucket = new S3Bucket(s3, location);
  }

  /** Checks that the bucket is there and reachable before the server takes requests. */
  static async open(s3: S3Client, location: S3Location): Promise<S3BlobStore> {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: location.bucket }));
    } catch (error) {
      if (isNotFound(error))
        throw new Error(`The S3 bucket "${location.bucket}" does not exist; create it first.`);
      throw error;
    }
    return new S3BlobStore(s3, location);
  }

  openWriter(blobId: string, start: WriterStart): Promise<BlobWriter> {
    return new Promise((resolve) => resolve(new S3BlobWriter(this.bucket, blobId, start)));
  }

  openOneShotWriter(blobId: string): Promise<BlobWriter> {
    const start = { offset: 0, state: undefined, expectedSize: undefined };
    return Promise.resolve(new S3BlobWriter(this.bucket, blobId, start, true));
  }

  async seal(blobId: string, size: number, state: BlobState | undefined): Promise<void> {
    const key = this.bucket.objectKey(blobId);
    // Sealed already, before a crash kept the metadata from saying so: only this session's
    // upload ever writes this key, so the object is this session's bytes.
    if ((await this.bucket.size(key)) !== size) {
      const layout = layoutFromState(state);
      if (layoutSize(layout) !== size) {
        throw new Error(
          `blob ${blobId} holds ${layoutSize(layout)} bytes, not the ${size} to complete`,
        );
      }
      const tail = size - partsSize(layout);
      if (layout.uploadId === undefined) {
        await this.bucket.putObject(key, layout.pieces, size);
      } else {
        const parts = [...layout.parts];
        if (tail > 0) {
          const n = parts.length + 1;
          const etag = await this.bucket.uploadPart(key, layout.uploadId, n, layout.pieces, tail);
          parts.push({ size: tail, etag });
        }
        await this.bucket.completeUpload(key, layout.uploadId, parts);
      }
    }
    await this.removeLeftovers(blobId);
  }

  async read(
    blobId: string,
    start: number,
    end: number,
  ): Promise<NodeJS.ReadableStream | undefined> {
    try {
      return await this.bucket.read(this.bucket.objectKey(blobId), start, end);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async size(blobId: string): Promise<number | undefined> {
    return this.bucket.size(this.bucket.objectKey(blobId));
  }

  async delete(blobId: string): Promise<void> {
    await this.bucket.deleteObject(this.bucket.objectKey(blobId));
    await this.removeLeftovers(blobId);
  }

  /** Pieces and multipart uploads of a blob, recorded or not. */
  private async removeLeftovers(blobId: string): Promise<void> {
    await this.bucket.abortUploads(this.bucket.objectKey(blobId));
    const pieces: string[] = [];
    for await (const { key } of this.bucket.list(this.bucket.piecesPrefix(blobId)))
      pieces.push(key);
    if (pieces.length > 0) await this.bucket.deleteObjects(pieces);
  }

  /**
   * Multipart uploads started, and pieces written, before `before`: older than any session that
   * may still be alive, they are what crashes left behind (one-shot uploads, which no record
   * lists, most of all).
   */
  async removeOrphans(before: number): Promise<number> {
    let removed = 0;
    for await (const upload of this.bucket.uploads(this.bucket.root('objects'))) {
      if (upload.started >= before) continue;
      await this.bucket.abortUpload(upload.key, upload.uploadId);
      removed++;
    }
    const pieces: string[] = [];
    for await (const piece of this.bucket.list(this.bucket.root('pieces')))
      if (piece.written < before) pieces.push(piece.key);
    if (pieces.length > 0) await this.bucket.deleteObjects(pieces);
    return removed + pieces.length;
  }

  close(): Promise<void> {
    this.bucket.s3.destroy();
    return Promise.resolve();
  }
}
