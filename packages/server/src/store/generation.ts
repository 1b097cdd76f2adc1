/**
 * Object generations as GCS makes them: microseconds since the epoch, strictly increasing for each
 * object (and in this process), so a newer upload always has a greater generation.
 */
export class GenerationClock {
  private last = 0;

  next(current: string | undefined): string {
    let candidate = Math.max(Date.now() * 1000, this.last + 1);
    if (current !== undefined && Number(current) >= candidate) candidate = Number(current) + 1;
    this.last = candidate;
    return String(candidate);
  }
}
