import type { IncomingMessage } from 'node:http';

/** How a request body stopped. */
export type BodyEnd = 'complete' | 'interrupted' | 'superseded';

/** Where an upload's bytes come from: a request body, or the media part inside one. */
export interface ChunkSource {
  /** The next chunk, or how the body ended. */
  next(): Promise<Buffer | BodyEnd>;
  /** Stops taking bytes. */
  stop(reason: BodyEnd): void;
}

/** Bytes buffered from the socket before it is paused (read-ahead while the disk works). */
const READ_AHEAD_BYTES = 4 * 1024 * 1024;

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

  constructor(
    private readonly req: IncomingMessage,
    signal?: AbortSignal,
  ) {
    req.on('data', (chunk: Buffer) => {
      this.queue.push(chunk);
      this.queued += chunk.length;
      if (this.queued >= READ_AHEAD_BYTES) req.pause();
      this.notify();
    });
    req.on('end', () => this.finish('complete'));
    req.on('error', () => this.finish('interrupted'));
    req.on('close', () => this.finish(req.complete ? 'complete' : 'interrupted'));
    signal?.addEventListener('abort', () => this.stop('superseded'), { once: true });
    if (signal?.aborted) this.stop('superseded');
  }

  /** The next chunk, or how the body ended. */
  async next(): Promise<Buffer | BodyEnd> {
    while (true) {
      const chunk = this.queue.shift();
      if (chunk) {
        this.queued -= chunk.length;
        if (this.queued < READ_AHEAD_BYTES && this.req.isPaused() && this.ended === undefined)
          this.req.resume();
        return chunk;
      }
      if (this.ended !== undefined) return this.ended;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Stops taking bytes; what is queued is dropped. */
  stop(reason: BodyEnd): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    this.queue.length = 0;
    this.queued = 0;
    this.req.pause();
    this.notify();
  }

  private finish(how: BodyEnd): void {
    if (this.ended === undefined) this.ended = how;
    this.notify();
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
