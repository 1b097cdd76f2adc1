import { Worker } from 'node:worker_threads';
import type { HashState } from '@spool/core';
import { BoundaryHasher, type HashPoints } from './boundary-hasher.js';

// Hashing is the most expensive thing Spool does with an upload's bytes (MD5 alone costs two
// seconds of CPU a GiB). Past its first 256 KiB, an upload is hashed on a thread of its own so that
// the thread serving requests only copies bytes, and two cores work at once; small uploads are
// hashed in place, where passing them to the thread would cost more than hashing them.

export type ToHashWorker =
  | { readonly op: 'open'; readonly id: number; readonly points: HashPoints }
  | { readonly op: 'data'; readonly id: number; readonly bytes: ArrayBuffer }
  | { readonly op: 'snapshot'; readonly id: number; readonly request: number }
  | { readonly op: 'close'; readonly id: number };

type FromHashWorker =
  | {
      readonly op: 'ack';
      readonly id: number;
      readonly hashed: number;
      readonly buffer: ArrayBuffer;
    }
  | {
      readonly op: 'snapshot';
      readonly id: number;
      readonly request: number;
      readonly points: HashPoints;
    };

/** Bytes an upload hashes in place before it moves to the hashing thread. */
const INLINE_BYTES = 256 * 1024;

/** Bytes gathered before they are posted to the thread: few messages, little held per upload. */
const BATCH_BYTES = 128 * 1024;
/**
 * Bytes posted and not yet hashed, all uploads together, before writers wait. One budget for the
 * process, so that memory stays bounded however many uploads run at once. Sixteen batches keep
 * the thread busy; with 8 MiB, a 2 GiB upload took 7.0 s instead of 5.6-6.1 s and the server
 * grew by 73 MiB instead of 62 (bench scenario 6).
 */
const MAX_OUTSTANDING_BYTES = 2 * 1024 * 1024;

/** A thread with no upload to hash for this long ends, giving back its memory and descriptors. */
const IDLE_MS = 5000;

let shared: HashThread | undefined;

/**
 * The process's hashing thread, started on first use and ended when idle; it does not keep the
 * process alive.
 */
function hashThread(): HashThread {
  return (shared ??= new HashThread());
}

class HashThread {
  private readonly worker: Worker;
  private nextId = 1;
  readonly streams = new Map<number, ThreadStream>();
  private outstanding = 0;
  private waiting: (() => void)[] = [];
  private failure: Error | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Batch buffers the thread has given back: the same few go back and forth, not new ones. */
  private readonly spare: ArrayBuffer[] = [];

  constructor() {
    this.worker = new Worker(new URL('./hash-worker.js', import.meta.url));
    this.worker.on('message', (message: FromHashWorker) => {
      if (message.op === 'ack') this.hashed(message.hashed, message.buffer);
      else this.streams.get(message.id)?.receive(message);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) =>
      this.fail(new Error(`the hashing thread exited with code ${code}`)),
    );
    // After the listeners, which would hold a reference. While a stream is open, its replies must
    // be waited for; with none, the thread does not keep the process alive.
    this.worker.unref();
  }

  private fail(error: Error): void {
    // The next stream starts a new thread; the streams of this one fail.
    if (shared === this) shared = undefined;
    this.failure = error;
    this.release();
    for (const stream of this.streams.values()) stream.fail(error);
  }

  /** Counts bytes posted; resolves once the thread has caught up enough to take more. */
  async posted(bytes: number): Promise<void> {
    this.outstanding += bytes;
    while (this.outstanding > MAX_OUTSTANDING_BYTES && !this.failure)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  batchBuffer(): Uint8Array {
    const buffer = this.spare.pop();
    return buffer ? new Uint8Array(buffer) : new Uint8Array(BATCH_BYTES);
  }

  hashed(bytes: number, buffer: ArrayBuffer): void {
    // Every open stream may post a batch before it waits for the budget, so as many buffers may
    // come back at once: keeping fewer made 200 concurrent uploads allocate 10,000 new 128 KiB
    // buffers (1.3 GB) for 1.6 GB hashed, and the collector run after them.
    if (buffer.byteLength === BATCH_BYTES && this.spare.length < this.spareLimit())
      this.spare.push(buffer);
    this.outstanding -= bytes;
    if (this.outstanding <= MAX_OUTSTANDING_BYTES / 2) this.release();
  }

  private spareLimit(): number {
    return MAX_OUTSTANDING_BYTES / BATCH_BYTES + this.streams.size;
  }

  private release(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  close(id: number): void {
    this.streams.delete(id);
    this.spare.length = Math.min(this.spare.length, this.spareLimit());
    this.post({ op: 'close', id });
    if (this.streams.size > 0) return;
    this.worker.unref();
    this.idleTimer = setTimeout(() => {
      if (shared === this) shared = undefined;
      void this.worker.terminate();
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  post(message: ToHashWorker, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }

  open(points: HashPoints): ThreadStream {
    const stream = new ThreadStream(this, this.nextId++);
    clearTimeout(this.idleTimer);
    if (this.streams.size === 0) this.worker.ref();
    this.streams.set(stream.id, stream);
    this.post({ op: 'open', id: stream.id, points });
    return stream;
  }
}

/**
 * The hashes of one upload's bytes: bytes go in in order, and snapshots give the states at the
 * last 256 KiB boundary and at the end.
 */
export class HashStream {
  private inPlace: BoundaryHasher | undefined;
  private onThread: ThreadStream | undefined;
  private readonly limit: number;

  private constructor(state: HashState) {
    this.inPlace = BoundaryHasher.at(state);
    this.limit = state.length + INLINE_BYTES;
  }

  static open(state: HashState): HashStream {
    return new HashStream(state);
  }

  /** Takes bytes (copied: the caller keeps its buffer); resolves when more may come. */
  update(bytes: Uint8Array): Promise<void> {
    if (this.inPlace && this.inPlace.length + bytes.length > this.limit) {
      this.onThread = hashThread().open(this.inPlace.points());
      this.inPlace = undefined;
    }
    if (!this.inPlace) return this.onThread!.update(bytes);
    this.inPlace.update(bytes);
    return Promise.resolve();
  }

  snapshot(): Promise<HashPoints> {
    return this.inPlace ? Promise.resolve(this.inPlace.points()) : this.onThread!.snapshot();
  }

  close(): void {
    this.onThread?.close();
  }
}

/** An upload's hashes on the hashing thread. */
class ThreadStream {
  private batch: Uint8Array | undefined;
  private batched = 0;
  private readonly snapshots = new Map<
    number,
    {
      resolve: (points: HashPoints) => void;
      reject: (error: Error) => void;
    }
  >();
  private nextRequest = 1;
  private failure: Error | undefined;

  constructor(
    private readonly thread: HashThread,
    readonly id: number,
  ) {}

  async update(bytes: Uint8Array): Promise<void> {
    this.throwIfFailed();
    for (let p = 0; p < bytes.length;) {
      this.batch ??= this.thread.batchBuffer();
      const take = Math.min(bytes.length - p, BATCH_BYTES - this.batched);
      this.batch.set(bytes.subarray(p, p + take), this.batched);
      this.batched += take;
      p += take;
      if (this.batched === BATCH_BYTES) await this.flush();
    }
    this.throwIfFailed();
  }

  private flush(): Promise<void> {
    if (!this.batch || this.batched === 0) return Promise.resolve();
    const size = this.batched;
    const bytes = (size === BATCH_BYTES ? this.batch : this.batch.slice(0, size))
      .buffer as ArrayBuffer;
    this.batch = undefined;
    this.batched = 0;
    this.thread.post({ op: 'data', id: this.id, bytes }, [bytes]);
    return this.thread.posted(size);
  }

  snapshot(): Promise<HashPoints> {
    this.throwIfFailed();
    // The bytes of a partial batch go now, whatever the budget: the snapshot must include them.
    void this.flush();
    const request = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.snapshots.set(request, { resolve, reject });
      this.thread.post({ op: 'snapshot', id: this.id, request });
    });
  }

  receive(message: FromHashWorker & { op: 'snapshot' }): void {
    const pending = this.snapshots.get(message.request);
    this.snapshots.delete(message.request);
    pending?.resolve(message.points);
  }

  fail(error: Error): void {
    this.failure = error;
    for (const pending of this.snapshots.values()) pending.reject(error);
    this.snapshots.clear();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  close(): void {
    this.thread.close(this.id);
  }
}
