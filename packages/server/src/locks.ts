/** A lease on a session: the holder writes until it releases or `superseded` fires. */
export interface Lease {
  /** Fires when a newer request wants the session: stop, persist what you have, release. */
  readonly superseded: AbortSignal;
  /** Never fails: a lease that cannot be given back cleanly lapses on its own. */
  release(): Promise<void>;
}

/**
 * One writer per session, and the newest request wins. Implementations: `SessionLocks` (one
 * process) and `PgLocker` (every process on the same PostgreSQL).
 */
export interface Locker {
  acquire(key: string): Promise<Lease>;
  /** Asks every holder to stop (server shutdown): each persists what it has and releases. */
  supersedeAll(): void;
  /** Sessions with a request in progress on this server. */
  readonly active: number;
  close(): Promise<void>;
}

interface Entry {
  readonly controller: AbortController;
  readonly released: Promise<void>;
  release: () => void;
}

/**
 * One writer per session, and the newest request wins: acquiring a session tells the current
 * holder (typically the request of a client that has since given up on its connection) to stop
 * and persist what it has, then waits for it. Never a permanent "locked" answer.
 */
export class SessionLocks implements Locker {
  private readonly latest = new Map<string, Entry>();

  async acquire(key: string): Promise<Lease> {
    const previous = this.latest.get(key);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const entry: Entry = { controller: new AbortController(), released, release };
    this.latest.set(key, entry);
    if (previous) {
      previous.controller.abort();
      await previous.released;
    }
    let done = false;
    return {
      superseded: entry.controller.signal,
      release: () => {
        if (done) return Promise.resolve();
        done = true;
        if (this.latest.get(key) === entry) this.latest.delete(key);
        entry.release();
        return Promise.resolve();
      },
    };
  }

  supersedeAll(): void {
    for (const entry of this.latest.values()) entry.controller.abort();
  }

  get active(): number {
    return this.latest.size;
  }

  async close(): Promise<void> {}
}

/** Runs tasks for the same key one after another (e.g. the commits of one object name). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let finish!: () => void;
    const tail = new Promise<void>((resolve) => (finish = resolve));
    this.tails.set(key, tail);
    await before;
    try {
      return await task();
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
      finish();
    }
  }
}
