import { Worker } from 'node:worker_threads';
import type { HashState } from '@spool/core';

// Hashing is the most expensive thing Spool does with an upload's bytes (MD5 alone costs two
// seconds of CPU a GiB). It runs on a thread of its own so that the thread serving requests
// only copies bytes, and the two cores work at once.

export type ToHashWorker =
  | { readonly op: 'open'; readonly id: number; readonly state: HashState }
  | { readonly op: 'data'; readonly id: number; readonly bytes: ArrayBuffer }
  | { readonly op: 'snapshot'; readonly id: number; readonly request: number }
  | { readonly op: 'close'; readonly id: number };

type FromHashWorker =
  | { readonly op: 'ack'; readonly id: number; readonly bytes: number }
  | {
      readonly op: 'snapshot';
      readonly id: number;
      readonly request: number;
      readonly boundary: HashPoint;
      readonly end: HashPoint;
    };

/** A hash state and the offset it belongs to. */
export interface HashPoint {
  readonly offset: number;
  readonly hash: HashState;
}

/** Bytes gathered before they are posted to the thread. */
const BATCH_BYTES = 1024 * 1024;
/** Bytes posted and not yet hashed before a stream makes its writer wait. */
const MAX_OUTSTANDING_BYTES = 16 * 1024 * 1024;

let shared: HashThread | undefined;

/** The process's hashing thread, started on first use; it does not keep the process alive. */
function hashThread(): HashThread {
  return (shared ??= new HashThread());
}

class HashThread {
  private readonly worker: Worker;
  private nextId = 1;
  readonly streams = new Map<number, HashStream>();

  constructor() {
    this.worker = new Worker(new URL('./hash-worker.js', import.meta.url));
    this.worker.on('message', (message: FromHashWorker) =>
      this.streams.get(message.id)?.receive(message),
    );
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
    for (const stream of this.streams.values()) stream.fail(error);
  }

  close(id: number): void {
    this.streams.delete(id);
    this.post({ op: 'close', id });
    if (this.streams.size === 0) this.worker.unref();
  }

  post(message: ToHashWorker, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }

  open(state: HashState): HashStream {
    const stream = new HashStream(this, this.nextId++);
    if (this.streams.size === 0) this.worker.ref();
    this.streams.set(stream.id, stream);
    this.post({ op: 'open', id: stream.id, state });
    return stream;
  }
}

/**
 * The hashes of one upload's bytes, computed on the hashing thread: bytes go in in order, and
 * snapshots come back with the state at the last 256 KiB boundary and at the end.
 */
export class HashStream {
  private batch: Uint8Array | undefined;
  private batched = 0;
  private outstanding = 0;
  private drained: (() => void) | undefined;
  private readonly snapshots = new Map<
    number,
    {
      resolve: (point: { boundary: HashPoint; end: HashPoint }) => void;
      reject: (error: Error) => void;
    }
  >();
  private nextRequest = 1;
  private failure: Error | undefined;

  constructor(
    private readonly thread: HashThread,
    readonly id: number,
  ) {}

  static open(state: HashState): HashStream {
    return hashThread().open(state);
  }

  /** Takes bytes (copied: the caller keeps its buffer); resolves when more may come. */
  async update(bytes: Uint8Array): Promise<void> {
    this.throwIfFailed();
    for (let p = 0; p < bytes.length;) {
      this.batch ??= new Uint8Array(BATCH_BYTES);
      const take = Math.min(bytes.length - p, BATCH_BYTES - this.batched);
      this.batch.set(bytes.subarray(p, p + take), this.batched);
      this.batched += take;
      p += take;
      if (this.batched === BATCH_BYTES) this.flush();
    }
    if (this.outstanding > MAX_OUTSTANDING_BYTES) {
      await new Promise<void>((resolve) => (this.drained = resolve));
      this.throwIfFailed();
    }
  }

  private flush(): void {
    if (!this.batch || this.batched === 0) return;
    const bytes =
      this.batched === BATCH_BYTES ? this.batch.buffer : this.batch.slice(0, this.batched).buffer;
    this.outstanding += this.batched;
    this.batch = undefined;
    this.batched = 0;
    this.thread.post({ op: 'data', id: this.id, bytes: bytes as ArrayBuffer }, [
      bytes as ArrayBuffer,
    ]);
  }

  /** The states at the last 256 KiB boundary and at the end of everything given so far. */
  snapshot(): Promise<{ boundary: HashPoint; end: HashPoint }> {
    this.throwIfFailed();
    this.flush();
    const request = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.snapshots.set(request, { resolve, reject });
      this.thread.post({ op: 'snapshot', id: this.id, request });
    });
  }

  receive(message: FromHashWorker): void {
    if (message.op === 'ack') {
      this.outstanding -= message.bytes;
      if (this.outstanding <= MAX_OUTSTANDING_BYTES / 2) {
        const drained = this.drained;
        this.drained = undefined;
        drained?.();
      }
    } else {
      const pending = this.snapshots.get(message.request);
      this.snapshots.delete(message.request);
      pending?.resolve({ boundary: message.boundary, end: message.end });
    }
  }

  fail(error: Error): void {
    this.failure = error;
    this.drained?.();
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
