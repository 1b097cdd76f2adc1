/**
 * Bytes that streams of one kind (request bodies read ahead, writes waiting for the disk) may
 * hold, shared among those holding some right now: each may hold `total / holders`, between a
 * floor and a ceiling. One upload gets the ceiling and runs fast; two hundred at once stay
 * within the total instead of each holding the ceiling.
 */
export class BufferAllowance {
  private holders = 0;

  constructor(
    private readonly total: number,
    private readonly floor: number,
    private readonly ceiling: number,
  ) {}

  /** What one holder may buffer now. */
  get share(): number {
    return Math.max(this.floor, Math.min(this.ceiling, this.total / Math.max(1, this.holders)));
  }

  /** A member of the allowance: tell it when it starts and stops holding bytes. */
  member(): { holding(bytes: number): void } {
    let counted = false;
    return {
      holding: (bytes) => {
        if (bytes > 0 && !counted) this.holders++;
        else if (bytes === 0 && counted) this.holders--;
        else return;
        counted = !counted;
      },
    };
  }
}
