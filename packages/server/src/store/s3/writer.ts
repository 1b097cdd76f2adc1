import type { BlobState, BlobWriter, WriterStart } from '../types.js';
import type { S3Bucket, Segment } from './bucket.js';
import {
  clipPieces,
  layoutFromState,
  layoutToState,
  partsSize,
  sameLayout,
  type Layout,
  type Part,
  type Piece,
} from './layout.js';
import { MAX_PARTS, partSize } from './part-size.js';

const MiB = 1024 * 1024;

/**
 * Bytes a writer holds in memory before they go to S3 as a piece, when a part is larger: memory
 * stays bounded however large parts grow. (With parts this size or smaller, and a request that
 * keeps coming, every part goes up straight from memory, and pieces appear only at commits.)
 */
export const PIECE_LIMIT = 16 * MiB;

/**
 * Bytes of one writer's uploads in flight (held in memory until S3 has them) before it waits:
 * three 8 MiB parts. S3 takes parts in parallel, and the next bytes keep arriving meanwhile.
 */
const MAX_IN_FLIGHT_BYTES = 24 * MiB;

interface PendingPiece extends Piece {
  /** Settles when the piece is in S3; rejects if it could not be stored. */
  readonly stored: Promise<void>;
}

interface PendingPart {
  readonly size: number;
  etag: string | undefined;
}

/**
 * Writes a session's bytes to S3: every full part goes to the session's multipart upload (from
 * memory, or, if its start was committed earlier, from the pieces holding it plus memory); at a
 * commit, the bytes of an unfinished part go to a new piece. So everything a commit acknowledges
 * is in S3, and the layout it returns says where.
 *
 * A one-shot writer (a blob written in one request) commits once, at the end, and that commit
 * makes the object: from memory if it is that small, else by completing the upload.
 */
export class S3BlobWriter implements BlobWriter {
  private readonly parts: PendingPart[];
  private upload: Promise<string> | undefined;
  private uploadId: string | undefined;
  /** Pieces of the part in progress, which spans [partStart, partEnd). */
  private pieces: PendingPiece[];
  private partStart: number;
  private partEnd: number;
  /** Bytes not yet sent anywhere, from bufferStart. */
  private buffer: Uint8Array[] = [];
  private bufferStart: number;
  private bufferBytes = 0;
  private readonly tasks = new Set<Promise<void>>();
  private inFlightBytes = 0;
  private failure: Error | undefined;
  private ended = false;
  /** Pieces folded into parts since the last commit, and before it (those may go now). */
  private consumed: Piece[] = [];
  private deletable: Piece[] = [];
  private recorded: Layout;
  private recordedState: BlobState | undefined;
  private readonly expectedSize: number | undefined;

  constructor(
    private readonly bucket: S3Bucket,
    private readonly blobId: string,
    start: WriterStart,
    private readonly oneShot = false,
  ) {
    const layout = layoutFromState(start.state);
    const partsEnd = partsSize(layout);
    if (partsEnd > start.offset) {
      throw new Error(
        `blob ${blobId}: its parts hold ${partsEnd} bytes, more than the ${start.offset} recorded`,
      );
    }
    const pieces = clipPieces(layout.pieces, partsEnd, start.offset);
    const held = partsEnd + pieces.reduce((n, p) => n + p.size, 0);
    if (held < start.offset) {
      throw new Error(
        `blob ${blobId} holds ${held} bytes, fewer than the ${start.offset} recorded as stored`,
      );
    }
    this.expectedSize = start.expectedSize;
    this.parts = layout.parts.map((p) => ({ ...p }));
    this.uploadId = layout.uploadId;
    if (layout.uploadId !== undefined) this.upload = Promise.resolve(layout.uploadId);
    this.pieces = pieces.map((p) => ({ ...p, stored: Promise.resolve() }));
    this.partStart = partsEnd;
    this.partEnd = partsEnd + (layout.partSize ?? this.nextPartSize());
    this.bufferStart = start.offset;
    this.recorded = {
      ...layout,
      pieces,
      partSize: pieces.length > 0 ? layout.partSize : undefined,
    };
    this.recordedState = sameLayout(this.recorded, layout)
      ? start.state
      : layoutToState(this.recorded);
  }

  private nextPartSize(): number {
    const n = this.parts.length + 1;
    // Past the last part there is no next one; the decision table keeps objects within 5 TiB.
    return n > MAX_PARTS ? Infinity : partSize(n, this.partStart, this.expectedSize);
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.ended) throw new Error('write after the blob writer ended');
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.check();
    let rest = bytes;
    while (rest.length > 0) {
      const bufferEnd = this.bufferStart + this.bufferBytes;
      const limit = Math.min(this.partEnd, this.bufferStart + PIECE_LIMIT);
      const take = Math.min(rest.length, limit - bufferEnd);
      this.buffer.push(rest.subarray(0, take));
      this.bufferBytes += take;
      rest = rest.subarray(take);
      if (bufferEnd + take === this.partEnd) this.finishPart(this.partEnd);
      else if (bufferEnd + take === limit) this.storePiece();
    }
    while (this.inFlightBytes >= MAX_IN_FLIGHT_BYTES)
      await Promise.race(this.tasks).catch(() => undefined);
    this.check();
  }

  /** Every byte before the buffer is in a part or a piece, or on its way there. */
  cheapAt(offset: number): boolean {
    return offset === this.bufferStart;
  }

  async commit(offset: number, final: boolean): Promise<BlobState | undefined> {
    this.check();
    if (this.oneShot) return this.publish(offset, final);
    const written = this.bufferStart + this.bufferBytes;
    if (offset > written)
      throw new Error(`cannot commit ${offset} bytes: only ${written} were written`);
    if (final) {
      this.truncate(offset);
      // The object ends here: its last part may be short, and need not wait for the seal.
      if (offset === this.expectedSize && offset > this.partStart) this.finishPart(offset);
    }
    // Bytes past a checkpoint stay in memory for the part they belong to.
    if (offset > this.bufferStart) this.storePiece(offset);
    await this.settle();
    if (this.failure !== undefined) throw this.failure;
    if (this.partStart > offset) {
      throw new Error(`blob ${this.blobId}: a part ends past the committed offset ${offset}`);
    }
    if (final) this.ended = true;

    const pieces = clipPieces(this.pieces, this.partStart, offset);
    const layout: Layout = {
      uploadId: this.parts.length > 0 ? this.uploadId : undefined,
      parts: this.partList(),
      pieces: pieces.map(({ key, size }) => ({ key, size })),
      partSize: pieces.length > 0 ? this.partEnd - this.partStart : undefined,
    };
    // The state returned by the previous commit is recorded by now: what only it needed can go.
    const doomed = this.deletable;
    this.deletable = this.consumed;
    this.consumed = [];
    // A failure leaves them for the clean-up at the session's end; the commit stands.
    await this.deletePieces(doomed);

    if (!sameLayout(layout, this.recorded)) {
      this.recorded = layout;
      this.recordedState = layoutToState(layout);
    }
    return this.recordedState;
  }

  async abandon(): Promise<void> {
    this.ended = true;
    this.buffer = [];
    this.bufferBytes = 0;
    await this.settle();
    // A one-shot blob leaves nothing behind (a crash leaves it to the sweep of old leftovers).
    if (this.oneShot) {
      await this.deletePieces([...this.consumed, ...this.pieces]);
      if (this.uploadId !== undefined) {
        await this.bucket
          .abortUpload(this.bucket.objectKey(this.blobId), this.uploadId)
          .catch(() => undefined);
      }
    }
  }

  /** The one commit of a one-shot blob: it becomes the object. */
  private async publish(offset: number, final: boolean): Promise<undefined> {
    if (!final) throw new Error('a one-shot blob is committed once, whole');
    this.truncate(offset);
    this.ended = true;
    const key = this.bucket.objectKey(this.blobId);
    if (this.parts.length === 0 && this.pieces.length === 0) {
      const { bytes, size } = this.takeBuffer();
      await this.bucket.putObject(key, bytes, size);
      return undefined;
    }
    if (offset > this.partStart) this.finishPart(offset);
    await this.settle();
    if (this.failure !== undefined) throw this.failure;
    await this.bucket.completeUpload(key, this.uploadId!, this.partList());
    await this.deletePieces(this.consumed);
    return undefined;
  }

  /** Deletes pieces no record needs; a failure leaves them to a later clean-up. */
  private async deletePieces(pieces: readonly Piece[]): Promise<void> {
    if (pieces.length === 0) return;
    await this.bucket.deleteObjects(pieces.map((p) => p.key)).catch(() => undefined);
  }

  private partList(): Part[] {
    return this.parts.map((p) => ({ size: p.size, etag: p.etag! }));
  }

  /** Drops buffered bytes past `offset`. */
  private truncate(offset: number): void {
    if (offset >= this.bufferStart + this.bufferBytes) return;
    let keep = Math.max(0, offset - this.bufferStart);
    const kept: Uint8Array[] = [];
    for (const b of this.buffer) {
      if (keep === 0) break;
      kept.push(b.length <= keep ? b : b.subarray(0, keep));
      keep -= kept[kept.length - 1]!.length;
    }
    this.buffer = kept;
    this.bufferBytes = Math.max(0, offset - this.bufferStart);
  }

  /** The buffered bytes up to `end` (all by default); the buffer goes on from there. */
  private takeBuffer(end = this.bufferStart + this.bufferBytes): {
    start: number;
    bytes: Uint8Array[];
    size: number;
  } {
    const size = end - this.bufferStart;
    if (size === this.bufferBytes) {
      const whole = { start: this.bufferStart, bytes: this.buffer, size };
      this.bufferStart = end;
      this.buffer = [];
      this.bufferBytes = 0;
      return whole;
    }
    const taken: Uint8Array[] = [];
    let left = size;
    while (left > 0) {
      const b = this.buffer[0]!;
      if (b.length <= left) {
        taken.push(this.buffer.shift()!);
        left -= b.length;
      } else {
        taken.push(b.subarray(0, left));
        this.buffer[0] = b.subarray(left);
        left = 0;
      }
    }
    const start = this.bufferStart;
    this.bufferStart = end;
    this.bufferBytes -= size;
    return { start, bytes: taken, size };
  }

  private storePiece(end?: number): void {
    const { start, bytes, size } = this.takeBuffer(end);
    const key = this.bucket.pieceKey(this.blobId, start);
    const stored = this.run(size, () => this.bucket.putObject(key, bytes, size));
    this.pieces.push({ key, size, stored });
  }

  /** Uploads [partStart, end) as the next part: its pieces, then the buffer. */
  private finishPart(end: number): void {
    const n = this.parts.length + 1;
    // The pieces and the buffer hold [partStart, end) exactly: nothing is written past a part's
    // end before it is cut, and a final commit has dropped the buffer past `end`.
    const pieces = this.pieces;
    const { bytes, size: held } = this.takeBuffer();
    const part: PendingPart = { size: end - this.partStart, etag: undefined };
    this.parts.push(part);
    this.consumed.push(...this.pieces);
    this.pieces = [];
    this.partStart = end;
    this.partEnd = end + this.nextPartSize();
    const key = this.bucket.objectKey(this.blobId);
    void this.run(held, async () => {
      await Promise.all(pieces.map((p) => p.stored));
      this.upload ??= this.bucket.createUpload(key).then((id) => (this.uploadId = id));
      const uploadId = await this.upload;
      const segments: Segment[] = [...pieces, ...bytes];
      part.etag = await this.bucket.uploadPart(key, uploadId, n, segments, part.size);
    });
  }

  /** Runs an upload holding `bytes` of memory until it is done. */
  private run(bytes: number, task: () => Promise<void>): Promise<void> {
    this.inFlightBytes += bytes;
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
        throw error;
      })
      .finally(() => {
        this.tasks.delete(promise);
        this.inFlightBytes -= bytes;
      });
    promise.catch(() => undefined);
    this.tasks.add(promise);
    return promise;
  }

  private async settle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }
}
