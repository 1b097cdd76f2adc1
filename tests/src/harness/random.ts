import { createCipheriv } from 'node:crypto';

/**
 * A seeded pseudo-random source (mulberry32), so that a failing run can be replayed from the seed
 * it prints.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A new source whose sequence depends on this one's, for a task of its own. */
  fork(): Random {
    return new Random(Math.floor(this.next() * 2 ** 32));
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/**
 * Seeded pseudo-random content (AES-CTR over zeros), produced `piece` bytes at a time and never
 * held whole: the same seed and size always give the same bytes.
 */
export function* seededContent(seed: number, size: number, piece = 1 << 20): Generator<Buffer> {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed >>> 0);
  key.writeUInt32BE(Math.floor(seed / 2 ** 32) >>> 0, 4);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(piece);
  for (let at = 0; at < size; at += piece) {
    yield cipher.update(zeros.subarray(0, Math.min(piece, size - at)));
  }
}

/** The whole of `seededContent(seed, size)` in one buffer. */
export function seededBuffer(seed: number, size: number): Buffer {
  return Buffer.concat([...seededContent(seed, size)]);
}
