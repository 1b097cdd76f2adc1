/**
 * Runs tasks, at most `limit` at a time, in the order they were added. A browser opens six
 * connections per server over HTTP/1.1; a few uploads at a time leave room for the rest of the
 * page, and finish the first files sooner than all of them at once would.
 */
export class TaskQueue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private active = 0;

  constructor(private readonly limit: number) {}

  /** Queues `task`; the returned function takes it out again if it has not started yet. */
  add(task: () => Promise<void>): () => boolean {
    this.waiting.push(task);
    this.next();
    return () => {
      const index = this.waiting.indexOf(task);
      if (index < 0) return false;
      this.waiting.splice(index, 1);
      return true;
    };
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private next(): void {
    while (this.active < this.limit && this.waiting.length > 0) {
      const task = this.waiting.shift()!;
      this.active++;
      void task()
        .catch(() => undefined)
        .finally(() => {
          this.active--;
          this.next();
        });
    }
  }
}
