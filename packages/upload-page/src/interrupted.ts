// The page's own memory of uploads that did not finish, to list them after a reload: the client
// remembers their sessions (by file and destination), but a page cannot read a file again until
// the person chooses it, so it says which files to choose.

const KEY = 'spool-page:interrupted';
/** Sessions last a week; an entry older than that has nothing left to resume. */
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface Interrupted {
  readonly name: string;
  readonly size: number;
  readonly lastModified: number;
  /** Where it was going: gs://bucket/object, or "a signed URL". */
  readonly target: string;
  readonly startedAt: number;
}

export function interruptedId(entry: Omit<Interrupted, 'startedAt'>): string {
  return JSON.stringify([entry.name, entry.size, entry.lastModified, entry.target]);
}

/** Reads the list, keeping entries of the right shape and age. */
export function loadInterrupted(storage: Storage, now: number): Interrupted[] {
  let entries: unknown;
  try {
    entries = JSON.parse(storage.getItem(KEY) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(entries)) return [];
  return entries.filter(
    (e): e is Interrupted =>
      typeof e === 'object' &&
      e !== null &&
      typeof (e as Interrupted).name === 'string' &&
      typeof (e as Interrupted).size === 'number' &&
      typeof (e as Interrupted).lastModified === 'number' &&
      typeof (e as Interrupted).target === 'string' &&
      typeof (e as Interrupted).startedAt === 'number' &&
      now - (e as Interrupted).startedAt < MAX_AGE_MS,
  );
}

/** Adds (or replaces) an entry. Storage that refuses writes only costs the list. */
export function rememberInterrupted(storage: Storage, entry: Interrupted, now: number): void {
  const id = interruptedId(entry);
  const entries = loadInterrupted(storage, now).filter((e) => interruptedId(e) !== id);
  save(storage, [...entries, entry]);
}

export function forgetInterrupted(storage: Storage, id: string, now: number): void {
  save(
    storage,
    loadInterrupted(storage, now).filter((e) => interruptedId(e) !== id),
  );
}

function save(storage: Storage, entries: Interrupted[]): void {
  try {
    storage.setItem(KEY, JSON.stringify(entries));
  } catch {
    // Full or refused: the uploads themselves are unaffected.
  }
}
