/**
 * Token buckets by key (a token's id, or a client address): `rate` requests a second on average,
 * bursts up to `burst`. Memory is bounded: the least recently used keys are forgotten first.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token; when none is left, says how many seconds until one is. */
  take(key: string, now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    if (this.rate <= 0) return { ok: true };
    const previous = this.buckets.get(key);
    const tokens = previous
      ? Math.min(this.burst, previous.tokens + ((now - previous.at) / 1000) * this.rate)
      : this.burst;
    // Re-insert so the Map's order is least recently used first.
    this.buckets.delete(key);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.rate)) };
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return { ok: true };
  }
}
