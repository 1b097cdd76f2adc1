/**
 * Speed over the last few seconds, from a running byte count: what the network is doing now,
 * not the average since the start (which a pause or a retry would distort for minutes).
 */
export class RateMeter {
  private readonly samples: { time: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5000) {}

  /** Records the running count `bytes` at `time` (ms). */
  add(time: number, bytes: number): void {
    const last = this.samples.at(-1);
    if (last && time <= last.time) {
      last.bytes = Math.max(last.bytes, bytes);
      return;
    }
    this.samples.push({ time, bytes });
    // Keep one sample older than the window, so the window is always covered.
    while (this.samples.length > 2 && this.samples[1]!.time <= time - this.windowMs) {
      this.samples.shift();
    }
  }

  /** Bytes a second over the window ending at `now`; undefined until there is enough to say. */
  rate(now: number): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last === first) return undefined;
    // Silence since the last sample counts: a stalled upload's speed falls towards 0.
    const elapsed = Math.max(now, last.time) - first.time;
    if (elapsed < 500) return undefined;
    return ((last.bytes - first.bytes) * 1000) / elapsed;
  }

  /** Forgets everything (after a pause, or on a new session). */
  reset(): void {
    this.samples.length = 0;
  }
}

/** Seconds left at `rate`, or undefined when that cannot be said. */
export function secondsLeft(remaining: number, rate: number | undefined): number | undefined {
  if (remaining <= 0) return 0;
  if (rate === undefined || rate <= 0) return undefined;
  return remaining / rate;
}
