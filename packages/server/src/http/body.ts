import type { IncomingMessage } from 'node:http';
import { BufferAllowance } from '../buffer-allowance.js';
import { TurnBudget } from './turn-budget.js';

/** How a request body stopped. */
export type BodyEnd = 'complete' | 'interrupted' | 'superseded' | 'too-slow';

/** Where an upload's bytes come from: a request body, or the media part inside one. */
export interface ChunkSource {
  /** The next chunk, or how the body ended. */
  next(): Promise<Buffer | BodyEnd>;
  /** Stops taking bytes. */
  stop(reason: BodyEnd): void;
}

/**
 * Bytes buffered from the socket before it is paused (read-ahead while the disk works): up to
 * 2 MiB for one body, less when many bodies arrive at once. (4 MiB moved a 2 GiB upload no
 * faster and grew the server by 5 MiB more, with 8 MiB instead of 4 of pending writes.)
 */
const readAhead = new BufferAllowance(16 * 1024 * 1024, 64 * 1024, 2 * 1024 * 1024);

/** A superseded body is read on while bytes keep coming, for at most this long (`supersede`)… */
const SUPERSEDED_DRAIN_MS = 500;
/** …and stops once none has arrived or been taken for this long: a silent connection. */
const SUPERSEDED_IDLE_MS = 50;

/** Bytes all bodies together hand out in one phase of the event loop (see TurnBudget). */
export const TURN_BYTES = 1024 * 1024;
const turn = new TurnBudget(TURN_BYTES);

/**
 * Pulls a request body chunk by chunk. Unlike async iteration over the request, it can be stopped
 * from outside (a newer request superseding this one) without destroying the socket, so that an
 * answer can still be sent.
 */
export class BodyReader implements ChunkSource {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended: BodyEnd | undefined;
  private wake: (() => void) | undefined;
  private readonly allowance = readAhead.member();
  private rateTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  /** When a byte last arrived or was taken (Date.now()): a superseded body stops when silent. */
  private lastProgress = 0;
  /** Bytes received in the current rate window, and whether we paused the socket in it. */
  private windowBytes = 0;
  private pausedInWindow = false;

  constructor(
    private readonly req: IncomingMessage,
    signal?: AbortSignal,
    minRate?: { readonly bytesPerSecond: number; readonly windowMs: number },
  ) {
    req.on('data', (chunk: Buffer) => {
      this.lastProgress = Date.now();
      this.queue.push(chunk);
      this.queued += chunk.length;
      this.allowance.holding(this.queued);
      this.windowBytes += chunk.length;
      if (this.queued >= readAhead.share) {
        req.pause();
        this.pausedInWindow = true;
      }
      this.notify();
    });
    if (minRate && minRate.bytesPerSecond > 0) {
      // A body that trickles in (slowloris) holds a connection and a session lease; cut it. A
      // window in which we paused the socket ourselves (the disk was slow) does not count.
      const floor = (minRate.bytesPerSecond * minRate.windowMs) / 1000;
      this.rateTimer = setInterval(() => {
        if (!this.pausedInWindow && this.windowBytes < floor) this.stop('too-slow');
        this.windowBytes = 0;
        this.pausedInWindow = false;
      }, minRate.windowMs);
      this.rateTimer.unref();
    }
    req.on('end', () => this.finish('complete'));
    req.on('error', () => this.finish('interrupted'));
    req.on('close', () => this.finish(req.complete ? 'complete' : 'interrupted'));
    // The connection may have closed while the request waited (for its session's lock): those
    // events are gone, and no more will come.
    if (req.destroyed) this.finish(req.complete ? 'complete' : 'interrupted');
    signal?.addEventListener('abort', () => this.supersede(), { once: true });
    if (signal?.aborted) this.stop('superseded');
  }

  /** The next chunk, or how the body ended. */
  async next(): Promise<Buffer | BodyEnd> {
    while (true) {
      // Let through after the wait, the chunk is taken even if others have spent the phase.
      if (turn.spent && this.queue.length > 0) await turn.wait(this.queue[0]!.length);
      const chunk = this.queue.shift();
      if (chunk) {
        turn.take(chunk.length);
        this.lastProgress = Date.now();
        this.queued -= chunk.length;
        if (this.ended === undefined) this.allowance.holding(this.queued);
        if (this.queued < readAhead.share && this.req.isPaused() && this.ended === undefined)
          this.req.resume();
        return chunk;
      }
      if (this.ended !== undefined) return this.ended;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /**
   * A newer request wants the session. It is usually the same client retrying after its
   * connection broke, and the bytes that reached this server before the break are still to be
   * read: taking them until the connection's end spares the client sending them again (bench
   * scenario 5 dropped 2-6.5 MiB a cut before). A connection that has gone silent, or a live
   * second writer still sending after SUPERSEDED_DRAIN_MS, stops.
   */
  private supersede(): void {
    if (this.ended !== undefined) return;
    const deadline = Date.now() + SUPERSEDED_DRAIN_MS;
    this.lastProgress = Date.now();
    this.drainTimer = setInterval(() => {
      const now = Date.now();
      if (now >= deadline || now - this.lastProgress >= SUPERSEDED_IDLE_MS) this.stop('superseded');
    }, SUPERSEDED_IDLE_MS / 2);
  }

  /** Stops taking bytes; what is queued is dropped. */
  stop(reason: BodyEnd): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    this.uncount();
    this.queue.length = 0;
    this.queued = 0;
    this.req.pause();
    this.notify();
  }

  private finish(how: BodyEnd): void {
    if (this.ended === undefined) this.ended = how;
    this.uncount();
    this.notify();
  }

  /** No more bytes come: what is still queued is the consumer's to take. */
  private uncount(): void {
    clearInterval(this.rateTimer);
    clearInterval(this.drainTimer);
    this.allowance.holding(0);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Reads a small body whole, refusing more than `limit` bytes. */
export async function readSmallBody(
  req: IncomingMessage,
  limit: number,
): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return 'too-large';
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return 'too-large';
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** A reader for an upload body, with the server's minimum body rate applied. */
export function uploadBody(
  req: IncomingMessage,
  limits: { readonly minBodyRate: number; readonly bodyRateWindowMs: number },
  signal?: AbortSignal,
): BodyReader {
  return new BodyReader(req, signal, {
    bytesPerSecond: limits.minBodyRate,
    windowMs: limits.bodyRateWindowMs,
  });
}
