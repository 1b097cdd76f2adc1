import { createHash } from 'node:crypto';
import { mkdir, opendir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bucketNotFound,
  compareNames,
  preconditionFailed,
  preconditionsHold,
  type Preconditions,
} from '@spool/core';
import { sessionKey } from '../ids.js';
import { KeyedMutex } from '../locks.js';
import type { DataDirLock } from './data-dir-lock.js';
import {
  createFileDurable,
  isNotFound,
  makeDirDurable,
  readJsonIfExists,
  removeDurable,
  writeFileAtomic,
  writeFilesAtomic,
  type FileContent,
} from './fs-util.js';
import { listNames } from './listing.js';
import type {
  BucketRecord,
  CompleteResult,
  ListObjectsPage,
  ListObjectsQuery,
  MetadataStore,
  ObjectRecord,
  SessionRecord,
} from './types.js';
import { GenerationClock } from './generation.js';

/**
 * Metadata as small JSON files, each replaced atomically (write, fsync, rename, fsync the
 * directory); a new one (a session's, an object's with no previous version) is created in place
 * instead (see `removeUnfinishedRecords`). File names are hashes, never user input:
 *
 *   sessions/<sha256 of session id>.json
 *   buckets/<bucket>/bucket.json           (bucket names are validated to a safe alphabet)
 *   buckets/<bucket>/objects/<sha256 of object name>.json
 */
export class FsMetadataStore implements MetadataStore {
  private readonly objectLocks = new KeyedMutex();
  private readonly generations = new GenerationClock();
  /** Active sessions by owner ('' for none): counted once at open, then kept up to date. */
  private readonly openSessions = new Map<string, number>();
  /**
   * Bucket records read so far: every upload checks its bucket, and a bucket record never
   * changes while it exists (this process is the data directory's only writer).
   */
  private readonly buckets = new Map<string, BucketRecord>();
  /** Sorted object names per bucket, built on the first listing of that bucket. */
  private readonly nameIndex = new Map<string, Promise<string[]>>();
  /** Commits in progress per bucket, and deletions of buckets (which commits wait for). */
  private readonly commits = new InFlight();
  private readonly deleting = new Map<string, Promise<void>>();

  constructor(
    private readonly root: string,
    private readonly tmpDir: string,
    /** Held while this store is open: one server per data directory. */
    private readonly lock: DataDirLock,
  ) {}

  static async open(root: string, tmpDir: string, lock: DataDirLock): Promise<FsMetadataStore> {
    await mkdir(join(root, 'sessions'), { recursive: true });
    await mkdir(join(root, 'buckets'), { recursive: true });
    const store = new FsMetadataStore(root, tmpDir, lock);
    for await (const session of store.allSessions()) store.countSession(session, 1);
    return store;
  }

  private countSession(session: SessionRecord | undefined, by: number): void {
    if (session?.status !== 'active') return;
    const owner = session.owner ?? '';
    this.openSessions.set(owner, (this.openSessions.get(owner) ?? 0) + by);
  }

  countOpenSessions(owner?: string): Promise<number> {
    if (owner !== undefined) return Promise.resolve(this.openSessions.get(owner) ?? 0);
    let total = 0;
    for (const n of this.openSessions.values()) total += n;
    return Promise.resolve(total);
  }

  private bucketDir(bucket: string): string {
    return join(this.root, 'buckets', bucket);
  }

  private objectPath(bucket: string, name: string): string {
    return join(
      this.bucketDir(bucket),
      'objects',
      `${createHash('sha256').update(name).digest('hex')}.json`,
    );
  }

  private sessionPath(id: string): string {
    return join(this.root, 'sessions', `${sessionKey(id)}.json`);
  }

  async createBucket(bucket: BucketRecord): Promise<'created' | 'exists'> {
    return this.objectLocks.run(`bucket:${bucket.name}`, async () => {
      if (await this.getBucket(bucket.name)) return 'exists';
      await makeDirDurable(this.bucketDir(bucket.name));
      await makeDirDurable(join(this.bucketDir(bucket.name), 'objects'));
      await writeFileAtomic(
        this.tmpDir,
        join(this.bucketDir(bucket.name), 'bucket.json'),
        JSON.stringify(bucket),
      );
      return 'created';
    });
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const known = this.buckets.get(name);
    if (known) return known;
    const bucket = await readJsonIfExists<BucketRecord>(join(this.bucketDir(name), 'bucket.json'));
    // A deletion that began meanwhile must not leave the bucket remembered.
    if (bucket && !this.deleting.has(name)) this.buckets.set(name, bucket);
    return bucket;
  }

  async listBuckets(): Promise<BucketRecord[]> {
    const names = (await readdir(join(this.root, 'buckets'))).sort(compareNames);
    const out: BucketRecord[] = [];
    for (const name of names) {
      const bucket = await this.getBucket(name);
      if (bucket) out.push(bucket);
    }
    return out;
  }

  async deleteBucket(name: string): Promise<'deleted' | 'not-found' | 'not-empty'> {
    return this.objectLocks.run(`bucket:${name}`, async () => {
      if (!(await this.getBucket(name))) return 'not-found';
      // No object may appear while the bucket goes: commits in progress end first, new ones wait.
      let settled!: () => void;
      this.deleting.set(name, new Promise((resolve) => (settled = resolve)));
      try {
        await this.commits.idle(name);
        const objects = join(this.bucketDir(name), 'objects');
        if ((await readdir(objects)).length > 0) return 'not-empty';
        this.buckets.delete(name);
        await removeDurable(join(this.bucketDir(name), 'bucket.json'));
        await rmdir(objects);
        await rmdir(this.bucketDir(name));
        this.nameIndex.delete(name);
        return 'deleted';
      } finally {
        this.deleting.delete(name);
        settled();
      }
    });
  }

  /**
   * A new session's record has nothing to replace, so it is created in place (see
   * `removeUnfinishedRecords`); every later change replaces it atomically.
   */
  async createSession(session: SessionRecord): Promise<void> {
    await createFileDurable(this.sessionPath(session.id), JSON.stringify(session));
    this.countSession(session, 1);
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    return readJsonIfExists(this.sessionPath(id));
  }

  async putSession(session: SessionRecord): Promise<void> {
    const previous = await this.getSession(session.id);
    await writeFileAtomic(this.tmpDir, this.sessionPath(session.id), JSON.stringify(session));
    this.countSession(previous, -1);
    this.countSession(session, 1);
  }

  async deleteSession(id: string): Promise<void> {
    const previous = await this.getSession(id);
    await removeDurable(this.sessionPath(id));
    this.countSession(previous, -1);
  }

  async *expiredSessions(now: number): AsyncIterable<SessionRecord> {
    for await (const session of this.allSessions()) {
      if (session.expiresAt <= now) yield session;
    }
  }

  /** Every session record, read one at a time (memory does not grow with their number). */
  async *allSessions(): AsyncIterable<SessionRecord> {
    for await (const { record } of recordFiles<SessionRecord>(join(this.root, 'sessions')))
      if (record) yield record;
  }

  /** Every object record of every bucket, read one at a time. */
  async *allObjects(): AsyncIterable<ObjectRecord> {
    for await (const { record } of this.objectFiles()) if (record) yield record;
  }

  private async *objectFiles(): AsyncIterable<RecordFile<ObjectRecord>> {
    for (const bucket of await readdir(join(this.root, 'buckets')))
      yield* recordFiles<ObjectRecord>(join(this.bucketDir(bucket), 'objects'));
  }

  /**
   * A record that does not exist yet (a new session's, a new object's) is created in place
   * rather than through a temporary file and a rename: one rename less per upload (scenario 7
   * of the benchmarks, new sessions: +2 to +16% resumable uploads a second in four alternated
   * pairs). A crash can then leave a new record cut short, but only before the client was told
   * of it (the session's URI, the object's success). This removes those records (they do not
   * parse) and returns how many there were; the next start calls it first.
   */
  async removeUnfinishedRecords(): Promise<number> {
    let removed = 0;
    const sessions = recordFiles<SessionRecord>(join(this.root, 'sessions'));
    for (const files of [sessions, this.objectFiles()]) {
      for await (const { path, record } of files) {
        if (record) continue;
        await removeDurable(path);
        removed++;
      }
    }
    return removed;
  }

  getObject(bucket: string, name: string): Promise<ObjectRecord | undefined> {
    return readJsonIfExists(this.objectPath(bucket, name));
  }

  private names(bucket: string): Promise<string[]> {
    let index = this.nameIndex.get(bucket);
    if (!index) {
      index = this.loadNames(bucket);
      this.nameIndex.set(bucket, index);
      index.catch(() => this.nameIndex.delete(bucket));
    }
    return index;
  }

  private async loadNames(bucket: string): Promise<string[]> {
    const names: string[] = [];
    for await (const { record } of recordFiles<ObjectRecord>(
      join(this.bucketDir(bucket), 'objects'),
    ))
      if (record) names.push(record.name);
    return names.sort(compareNames);
  }

  private async updateIndex(bucket: string, name: string, present: boolean): Promise<void> {
    const index = this.nameIndex.get(bucket);
    if (!index) return;
    const names = await index;
    const at = lowerBound(names, name);
    const found = names[at] === name;
    if (present && !found) names.splice(at, 0, name);
    if (!present && found) names.splice(at, 1);
  }

  async listObjects(bucket: string, query: ListObjectsQuery): Promise<ListObjectsPage> {
    const names = await this.names(bucket);
    const page = await listNames((from) => iterateFrom(names, from), query);
    const items: ObjectRecord[] = [];
    for (const name of page.names) {
      const object = await this.getObject(bucket, name);
      if (object) items.push(object);
    }
    return { items, prefixes: page.prefixes, nextAfter: page.nextAfter };
  }

  async completeUpload(
    session: SessionRecord,
    draft: Omit<ObjectRecord, 'generation'>,
  ): Promise<CompleteResult> {
    const outcome = await this.commit(draft, session.preconditions, (object) => ({
      path: this.sessionPath(session.id),
      data: JSON.stringify({ ...session, status: 'final', object }),
    }));
    const after: SessionRecord = outcome.ok
      ? { ...session, status: 'final', object: outcome.object }
      : { ...session, status: 'failed', failure: outcome.error };
    // The final record went with the object's; a refused upload's is written now.
    if (!outcome.ok)
      await writeFileAtomic(this.tmpDir, this.sessionPath(session.id), JSON.stringify(after));
    // The caller holds the session's lease: `session` is what is on record.
    this.countSession(session, -1);
    this.countSession(after, 1);
    return outcome;
  }

  async commitObject(
    draft: Omit<ObjectRecord, 'generation'>,
    preconditions: Preconditions,
  ): Promise<CompleteResult> {
    return this.commit(draft, preconditions);
  }

  /**
   * Checks preconditions and writes the object under the object's lock. A completing session's
   * final record (`sessionAfter`) is written with the object's, strictly after it: a crash
   * between the two leaves an active session whose blob is the current object's, which recovery
   * marks final.
   */
  private async commit(
    draft: Omit<ObjectRecord, 'generation'>,
    preconditions: Preconditions,
    sessionAfter?: (object: ObjectRecord) => FileContent,
  ): Promise<CompleteResult> {
    return this.objectLocks.run(`object:${draft.bucket}/${draft.name}`, async () => {
      const current = await this.getObject(draft.bucket, draft.name);
      if (current?.blobId === draft.blobId) {
        // This upload's object is there already: the session record could not be written after
        // it (the disk was full), and the client asks again. Its preconditions held back then.
        if (sessionAfter) await this.writeFiles([sessionAfter(current)]);
        return { ok: true, object: current, replaced: undefined };
      }
      if (!preconditionsHold(preconditions, current))
        return { ok: false, error: preconditionFailed() };
      const object: ObjectRecord = {
        ...draft,
        generation: this.generations.next(current?.generation),
      };
      while (this.deleting.has(object.bucket)) await this.deleting.get(object.bucket);
      const files = [
        {
          path: this.objectPath(object.bucket, object.name),
          data: JSON.stringify(object),
          fresh: current === undefined,
        },
        ...(sessionAfter ? [sessionAfter(object)] : []),
      ];
      const written = await this.commits.run(object.bucket, async () => {
        try {
          await this.writeFiles(files);
          return true;
        } catch (error) {
          // The bucket's directory is gone: the bucket was deleted while the upload went on.
          if (isNotFound(error) && !(await this.getBucket(object.bucket))) return false;
          // The object may be in place and only the session record not (a full disk).
          if ((await this.getObject(object.bucket, object.name))?.blobId === object.blobId)
            await this.updateIndex(object.bucket, object.name, true);
          throw error;
        }
      });
      if (!written) return { ok: false, error: bucketNotFound() };
      await this.updateIndex(object.bucket, object.name, true);
      return { ok: true, object, replaced: current };
    });
  }

  private writeFiles(files: readonly FileContent[]): Promise<void> {
    return writeFilesAtomic(this.tmpDir, files);
  }

  async putObjectMetadata(object: ObjectRecord, expectedMetageneration: string): Promise<boolean> {
    return this.objectLocks.run(`object:${object.bucket}/${object.name}`, async () => {
      const current = await this.getObject(object.bucket, object.name);
      if (
        current?.generation !== object.generation ||
        current.metageneration !== expectedMetageneration
      ) {
        return false;
      }
      await writeFileAtomic(
        this.tmpDir,
        this.objectPath(object.bucket, object.name),
        JSON.stringify(object),
      );
      return true;
    });
  }

  async deleteObject(
    bucket: string,
    name: string,
    generation: string,
  ): Promise<ObjectRecord | undefined> {
    return this.objectLocks.run(`object:${bucket}/${name}`, async () => {
      const current = await this.getObject(bucket, name);
      if (!current || current.generation !== generation) return undefined;
      await removeDurable(this.objectPath(bucket, name));
      await this.updateIndex(bucket, name, false);
      return current;
    });
  }

  /**
   * The data directory keeps no list of released blobs: the handlers delete them right after the
   * object record changes, and what a crash in between leaves behind goes at the next start
   * (`recoverFsStore`).
   */
  deleteReleasedBlobs(): Promise<number> {
    return Promise.resolve(0);
  }

  /** Removes temporary files left by a crash in the middle of an atomic write. */
  async clearTmp(): Promise<void> {
    try {
      for (const name of await readdir(this.tmpDir))
        await rm(join(this.tmpDir, name), { force: true });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  close(): Promise<void> {
    return this.lock.release();
  }
}

interface RecordFile<T> {
  readonly path: string;
  /** Undefined for a file that does not parse (see `removeUnfinishedRecords`). */
  readonly record: T | undefined;
}

/** The record files of a directory, read one at a time; none if the directory is gone. */
async function* recordFiles<T>(dirPath: string): AsyncIterable<RecordFile<T>> {
  let dir;
  try {
    dir = await opendir(dirPath);
  } catch (error) {
    // A bucket whose deletion a crash interrupted, or one deleted since it was listed.
    if (isNotFound(error)) return;
    throw error;
  }
  for await (const entry of dir) {
    if (!entry.name.endsWith('.json')) continue;
    const path = join(dirPath, entry.name);
    let record: T | undefined;
    try {
      record = await readJsonIfExists<T>(path);
      // Removed since the listing (an expired session swept meanwhile, say).
      if (!record) continue;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
    yield { path, record };
  }
}

function lowerBound(names: string[], name: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareNames(names[mid]!, name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function* iterateFrom(names: string[], from: string): Iterable<string> {
  for (let i = lowerBound(names, from); i < names.length; i++) yield names[i]!;
}

/** Counts tasks in progress per key, so that something can wait until a key has none. */
class InFlight {
  private readonly counts = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    try {
      return await task();
    } finally {
      const left = this.counts.get(key)! - 1;
      if (left > 0) this.counts.set(key, left);
      else {
        this.counts.delete(key);
        for (const wake of this.waiters.get(key) ?? []) wake();
        this.waiters.delete(key);
      }
    }
  }

  idle(key: string): Promise<void> {
    if (!this.counts.has(key)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(key) ?? [];
      list.push(resolve);
      this.waiters.set(key, list);
    });
  }
}
