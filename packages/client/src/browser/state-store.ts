import { isStale, type ResumeRecord, type ResumeStateStore } from '../state-store.js';

const PREFIX = 'spool-upload:';

/**
 * Remembers interrupted uploads in Web Storage (localStorage by default), so that choosing the
 * same file again after a reload, a crash or a closed tab continues the same session. Entries are
 * removed when their upload completes or fails for good; entries older than a session can live
 * are removed whenever a new one is written, so the storage does not fill with dead sessions.
 *
 * The records are session URIs, which are capabilities: they stay in this origin's storage.
 * Where storage is refused (some private modes, sandboxed frames), the upload goes on and warns
 * that it cannot be resumed after a reload.
 */
export class WebStorageStateStore implements ResumeStateStore {
  constructor(
    /** localStorage unless given; reached only when used, since reaching it can throw. */
    private readonly area?: Storage,
    private readonly now: () => number = Date.now,
  ) {}

  private get storage(): Storage {
    return this.area ?? localStorage;
  }

  get(key: string): Promise<ResumeRecord | undefined> {
    return Promise.resolve(parse(this.storage.getItem(PREFIX + key)));
  }

  set(key: string, record: ResumeRecord): Promise<void> {
    this.removeStale();
    this.storage.setItem(
      PREFIX + key,
      JSON.stringify({ sessionUri: record.sessionUri, createdAt: record.createdAt }),
    );
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.storage.removeItem(PREFIX + key);
    return Promise.resolve();
  }

  private removeStale(): void {
    const stale: string[] = [];
    for (let i = 0; i < this.storage.length; i++) {
      const name = this.storage.key(i);
      if (name === null || !name.startsWith(PREFIX)) continue;
      const record = parse(this.storage.getItem(name));
      if (!record || isStale(record, this.now())) stale.push(name);
    }
    for (const name of stale) this.storage.removeItem(name);
  }
}

/** A record as written by `set`, or undefined for anything else (absent, torn, foreign). */
function parse(text: string | null): ResumeRecord | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<ResumeRecord> | null;
    if (typeof value?.sessionUri !== 'string' || typeof value.createdAt !== 'number') {
      return undefined;
    }
    return { sessionUri: value.sessionUri, createdAt: value.createdAt };
  } catch {
    return undefined;
  }
}
