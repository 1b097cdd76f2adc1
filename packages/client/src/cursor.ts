import { CHUNK_GRANULARITY, type ObjectHasher, type UploadChecksums } from '@spool/core';
import { SourceError } from './errors.js';
import { chunkEnd, planKnownSize, type RequestPlan } from './plan.js';
import { PIECE, asBytes, type SeekableSource } from './sources.js';
import type { RequestBody } from './transport.js';

/**
 * The client's side of an upload: what it can send, where it is, and the hashes of the object.
 * Every byte of the source is hashed once, in order, the first time it is read; bytes read again
 * to be resent are not hashed again.
 */
export interface Cursor {
  /** The object's size, once known: at once for files, Blobs and bytes, at the end for streams. */
  size(): number | undefined;
  /** The bytes the client can send again: from `local`, `buffered` of them. */
  window(): { local: number; buffered: number };
  /** Whether the object can be produced again from byte 0 (to start over on a new session). */
  rewindable(): boolean;
  /** Continue at the server's offset. A stream lets go of what is below it. */
  seek(offset: number): Promise<void>;
  /** The next request from the current offset (a stream fills its chunk buffer here). */
  plan(): Promise<RequestPlan>;
  body(plan: RequestPlan): RequestBody;
  /** Size and hashes of the whole object, reading (and hashing) whatever was not read yet. */
  digests(): Promise<{ size: number; hashes: UploadChecksums }>;
  /** Stop reading the source (cancels a stream). */
  close(): Promise<void>;
}

/** A file, Blob or bytes: nothing buffered; any offset is re-read from the source. */
export class SeekableCursor implements Cursor {
  private readonly hasher: ObjectHasher;
  private offset = 0;

  constructor(
    private readonly source: SeekableSource,
    private readonly chunkSize: number | undefined,
    createHasher: () => ObjectHasher,
  ) {
    this.hasher = createHasher();
  }

  size(): number {
    return this.source.size;
  }

  window(): { local: number; buffered: number } {
    return { local: 0, buffered: this.source.size };
  }

  rewindable(): boolean {
    return true;
  }

  seek(offset: number): Promise<void> {
    this.offset = offset;
    return Promise.resolve();
  }

  async plan(): Promise<RequestPlan> {
    // After a restart, or when the server kept bytes of a body that was not read to its end, the
    // bytes before the request's first are read here, only to be hashed.
    await this.hashTo(this.offset);
    return planKnownSize(this.offset, this.source.size, this.chunkSize);
  }

  body(plan: RequestPlan): RequestBody {
    const length = plan.end - plan.start;
    return {
      length,
      blob: this.source.slice?.(plan.start, plan.end),
      chunks: this.read(plan.start, plan.end, (at, piece) => this.hashFrom(at, piece)),
    };
  }

  async digests(): Promise<{ size: number; hashes: UploadChecksums }> {
    await this.hashTo(this.source.size);
    return { size: this.source.size, hashes: this.hasher.digests() };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async hashTo(end: number): Promise<void> {
    const start = this.hasher.length;
    if (start >= end) return;
    for await (const piece of this.read(start, end, () => undefined)) this.hasher.update(piece);
  }

  /** Hashes the part of a piece at `at` that the hasher has not seen yet. */
  private hashFrom(at: number, piece: Uint8Array): void {
    const hashed = this.hasher.length;
    if (at <= hashed && at + piece.length > hashed) this.hasher.update(piece.subarray(hashed - at));
  }

  /** Reads [start, end), checking that the source still has exactly those bytes. */
  private async *read(
    start: number,
    end: number,
    visit: (at: number, piece: Uint8Array) => void,
  ): AsyncGenerator<Uint8Array> {
    let at = start;
    for await (const piece of this.source.read(start, end)) {
      if (piece.length === 0) continue;
      if (at + piece.length > end) throw changed(end, at + piece.length);
      visit(at, piece);
      at += piece.length;
      yield piece;
    }
    if (at !== end) throw changed(end, at);
  }
}

const changed = (expected: number, got: number) =>
  new SourceError(
    `The source changed while it was being uploaded: reading up to byte ${expected} gave ${got}. Upload it again once it no longer changes.`,
  );

/**
 * A stream of unknown length: read once, with one chunk buffered so that it can be resent. The
 * buffer holds at most chunkSize + 256 KiB (the extra only after a server kept an unaligned
 * prefix), plus the rest of the last piece the stream handed over.
 */
export class StreamCursor implements Cursor {
  private readonly hasher: ObjectHasher;
  private buffer = new Uint8Array(0);
  /** The buffer holds the object's bytes [local, local + length). */
  private local = 0;
  private length = 0;
  /** Bytes read (and hashed) past the buffer. */
  private pending: Uint8Array | undefined;
  private ended = false;
  private started = false;

  constructor(
    private readonly pieces: AsyncIterator<unknown>,
    private readonly chunkSize: number,
    createHasher: () => ObjectHasher,
  ) {
    this.hasher = createHasher();
  }

  size(): number | undefined {
    return this.ended ? this.hasher.length : undefined;
  }

  window(): { local: number; buffered: number } {
    // Before its first read a stream can still produce any prefix, by reading forward: that is
    // how a stream resumes a session after a restart.
    return { local: this.local, buffered: this.started ? this.length : Infinity };
  }

  rewindable(): boolean {
    return this.local === 0;
  }

  async seek(offset: number): Promise<void> {
    if (offset < this.local) {
      throw new Error(`cannot seek back to ${offset}: the buffer starts at ${this.local}`);
    }
    if (offset <= this.local + this.length) {
      const drop = offset - this.local;
      this.buffer.copyWithin(0, drop, this.length);
      this.length -= drop;
      this.local = offset;
      return;
    }
    // Past the buffer: the server has bytes a previous run sent. Read up to them.
    this.local += this.length;
    this.length = 0;
    while (this.local < offset) {
      const piece = await this.next();
      if (!piece) {
        throw new SourceError(
          `The stream ended after ${this.local} bytes, but the upload session already has ${offset}: this is not the stream the session was started with.`,
        );
      }
      const take = Math.min(piece.length, offset - this.local);
      this.local += take;
      if (take < piece.length) this.pending = piece.subarray(take);
    }
  }

  async plan(): Promise<RequestPlan> {
    const target = chunkEnd(this.local, this.chunkSize);
    while (this.local + this.length < target) {
      const piece = await this.next();
      if (!piece) break;
      const take = Math.min(piece.length, target - this.local - this.length);
      this.append(piece.subarray(0, take), target - this.local);
      if (take < piece.length) this.pending = piece.subarray(take);
    }
    // A full chunk is the last one only if the stream ends right after it: look ahead.
    if (!this.ended && this.pending === undefined) {
      const piece = await this.next();
      if (piece) this.pending = piece;
    }
    const final = this.ended && this.pending === undefined;
    return { start: this.local, end: this.local + this.length, final };
  }

  body(plan: RequestPlan): RequestBody {
    const from = plan.start - this.local;
    const to = plan.end - this.local;
    const buffer = this.buffer;
    return {
      length: to - from,
      chunks: (function* () {
        for (let at = from; at < to; at += PIECE)
          yield buffer.subarray(at, Math.min(to, at + PIECE));
      })(),
    };
  }

  async digests(): Promise<{ size: number; hashes: UploadChecksums }> {
    while (this.pending !== undefined || !this.ended) {
      this.pending = undefined;
      if (!(await this.next())) break;
    }
    return { size: this.hasher.length, hashes: this.hasher.digests() };
  }

  async close(): Promise<void> {
    if (!this.ended) await this.pieces.return?.();
  }

  /** The next bytes past the buffer: a pending rest, or a new piece (hashed as it arrives). */
  private async next(): Promise<Uint8Array | undefined> {
    this.started = true;
    if (this.pending !== undefined) {
      const piece = this.pending;
      this.pending = undefined;
      return piece;
    }
    while (!this.ended) {
      const result = await this.pieces.next();
      if (result.done) {
        this.ended = true;
        break;
      }
      const piece = asBytes(result.value);
      if (piece.length === 0) continue;
      this.hasher.update(piece);
      return piece;
    }
    return undefined;
  }

  private append(bytes: Uint8Array, needed: number): void {
    if (needed > this.buffer.length) {
      const capacity = Math.min(
        Math.max(needed, this.buffer.length * 2),
        this.chunkSize + CHUNK_GRANULARITY,
      );
      const grown = new Uint8Array(capacity);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }
}
