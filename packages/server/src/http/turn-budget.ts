/**
 * Bounds the bytes that request bodies hand out in one phase of the event loop. Each chunk taken
 * is copied, hashed and written in the same turn; without a bound, a turn that found 200 sockets
 * readable did up to 13 MiB of that work while status queries and new requests waited for it
 * (bench scenario 4: p99 status query 38-46 ms; 11-14 ms with 1 MiB a phase, 17-19 ms with 2 MiB,
 * 23-25 ms with 4 MiB, for the same aggregate throughput within the rounds' spread).
 *
 * A body that finds the phase's budget spent waits in line; once the phase is over, those at the
 * head of the line are let through, as many as the next phase's budget covers, in the order they
 * came. One timer per phase, whatever the number of waiting bodies (each waiting on a timer of
 * its own cost 200 timers and promises a phase, and scenario 4 went 10% slower).
 */
export class TurnBudget {
  private taken = 0;
  private ending = false;
  private readonly line: { readonly bytes: number; readonly go: () => void }[] = [];

  constructor(readonly bytesPerPhase: number) {}

  /** Whether this phase's bytes are spent: the caller should `wait` before it takes more. */
  get spent(): boolean {
    return this.taken >= this.bytesPerPhase;
  }

  /** Counts bytes taken in this phase. */
  take(bytes: number): void {
    this.taken += bytes;
    this.endPhaseSoon();
  }

  /** Resolves in a later phase, when the caller may take `bytes` (its next chunk's size). */
  wait(bytes: number): Promise<void> {
    return new Promise((go) => {
      this.line.push({ bytes, go });
      this.endPhaseSoon();
    });
  }

  private endPhaseSoon(): void {
    if (this.ending) return;
    this.ending = true;
    setImmediate(() => this.endPhase());
  }

  private endPhase(): void {
    this.ending = false;
    this.taken = 0;
    let granted = 0;
    while (this.line.length > 0 && granted < this.bytesPerPhase) {
      const next = this.line.shift()!;
      granted += next.bytes;
      next.go();
    }
    if (this.line.length > 0) this.endPhaseSoon();
  }
}
