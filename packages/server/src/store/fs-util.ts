import {
  closeSync,
  constants,
  fdatasync,
  fsync,
  open as openFd,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { uniqueNames } from '@spool/core';

/*
 * Which file system calls run in place and which go to libuv's thread pool. A call handed to the
 * pool costs a thread switch on either side: on the 2-core machine the benchmarks run on, an
 * async open + close takes 60-80 µs of CPU against 1 µs done in place, and a 4 KiB upload,
 * which reads a dozen records, cost ~3 ms of server CPU (bench scenario 7). So reading a record
 * (a small file in the page cache), opening an existing file, writing a record's few hundred
 * bytes to a file just created and closing one are done in place. Whatever creates, renames or
 * removes a file, writes blob data or fsyncs may wait for the disk or for a journal commit in
 * progress (creating a file in place took ~0.4 ms while other uploads' fsyncs ran), so it
 * stays off the event loop.
 */
/** fsync of an open descriptor, in the thread pool. */
const fsyncFd = promisify(fsync);
/** fdatasync of an open descriptor, in the thread pool. */
export const fdatasyncFd = promisify(fdatasync);
/** Opens (creating) a file, in the thread pool. */
export const createFile = promisify(openFd);

/**
 * Directory fsyncs of one directory, shared by the callers that overlap: a call waits for an
 * fsync that starts after it was made (one in progress may have started before the caller's
 * change), and all callers that arrive meanwhile wait for that same one. Many uploads finishing
 * at once then cost two fsyncs of a directory, not one each.
 */
const dirSyncs = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

/** fsyncs a directory, making the creation, rename or removal of its entries durable. */
export function syncDir(dir: string): Promise<void> {
  const state = dirSyncs.get(dir);
  if (!state) {
    const running = fsyncDir(dir).finally(() => advance(dir));
    dirSyncs.set(dir, { running });
    return running;
  }
  state.next ??= state.running.catch(() => undefined).then(() => fsyncDir(dir));
  return state.next;
}

/** The fsync in progress ended: the one that callers queued behind it (if any) is now running. */
function advance(dir: string): void {
  const state = dirSyncs.get(dir)!;
  if (state.next) {
    const running = state.next.finally(() => advance(dir));
    dirSyncs.set(dir, { running });
    // Its callers hold `next`, which settles as `running` does.
    running.catch(() => undefined);
  } else {
    dirSyncs.delete(dir);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file's new content, for `writeFilesAtomic`. */
export interface FileContent {
  readonly path: string;
  readonly data: string | Uint8Array;
  /**
   * The file does not exist yet: it is created in place (`createFileDurable`) instead of through
   * a temporary file and a rename. Such files come before the others.
   */
  readonly fresh?: boolean;
}

/** Names for temporary files. */
const tmpName = uniqueNames();

/**
 * Replaces `path` with `data` so that a crash at any instant leaves either the old or the new
 * content: write a temporary file, fsync it, rename it over the target, fsync the directory.
 */
export function writeFileAtomic(
  tmpDir: string,
  path: string,
  data: string | Uint8Array,
): Promise<void> {
  return writeFilesAtomic(tmpDir, [{ path, data }]);
}

/**
 * Writes several files as `writeFileAtomic` does each (fresh ones as `createFileDurable` does),
 * in order: after a crash, a file has its new content only if every file before it has too.
 * Fresh files are created and the temporary files written and synced all at once (each sync
 * waits for the disk; waiting for them together costs one wait), then the temporary files are
 * renamed one by one, each rename made durable before the next.
 */
export async function writeFilesAtomic(
  tmpDir: string,
  files: readonly FileContent[],
): Promise<void> {
  const fresh = files.filter((file) => file.fresh);
  const replaced = files.slice(fresh.length);
  // A fresh file is durable before anything is renamed: one after a replaced one would break
  // the order.
  if (replaced.some((file) => file.fresh)) throw new Error('fresh files must come first');
  const tmps = replaced.map(() => join(tmpDir, `${tmpName()}.tmp`));
  let renamed = 0;
  try {
    await allSettledOrThrow([
      ...fresh.map((file) => createFileDurable(file.path, file.data)),
      ...replaced.map((file, i) => writeSynced(tmps[i]!, file.data)),
    ]);
    for (const [i, file] of replaced.entries()) {
      await rename(tmps[i]!, file.path);
      renamed++;
      await syncDir(dirname(file.path));
    }
  } catch (error) {
    await Promise.all(tmps.slice(renamed).map((tmp) => rm(tmp, { force: true })));
    throw error;
  }
}

/**
 * Creates `path` with `data` and syncs it: creating and syncing in the pool, writing and closing
 * in place (see the top of this file).
 */
async function writeSynced(path: string, data: string | Uint8Array): Promise<void> {
  const fd = await createFile(path, 'w');
  try {
    writeAllSync(fd, data);
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `path`, which must not exist, with `data`, durably: the file's bytes and its directory
 * entry are synced at the same time. With nothing to replace, no temporary file and rename are
 * needed; a crash can leave only a file that nobody was told of, possibly empty or cut short.
 * On failure the file is removed.
 */
export async function createFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const fd = await createFile(path, 'wx');
  try {
    writeAllSync(fd, data);
    await allSettledOrThrow([fsyncFd(fd), syncDir(dirname(path))]);
  } catch (error) {
    closeSync(fd);
    await rm(path, { force: true });
    throw error;
  }
  closeSync(fd);
}

function writeAllSync(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let written = 0;
  while (written < bytes.length)
    written += writeSync(fd, bytes, written, bytes.length - written, written);
}

/** Waits for every promise to settle, then rejects with the first failure if there was one. */
async function allSettledOrThrow(promises: Promise<unknown>[]): Promise<void> {
  for (const outcome of await Promise.allSettled(promises))
    if (outcome.status === 'rejected') throw outcome.reason;
}

/** Creates a directory and makes its entry in the parent durable. */
export async function makeDirDurable(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) await syncDir(dirname(dir));
}

/**
 * A record's parsed JSON, or undefined if the file is not there. The reading is done in place
 * (see the top of this file); failures reject like those of an async read.
 */
export function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  let fd;
  try {
    fd = openRecord(path);
    return Promise.resolve(JSON.parse(readFileSync(fd, 'utf8')) as T);
  } catch (error) {
    if (isNotFound(error)) return Promise.resolve(undefined);
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Opens a record for reading without updating its access time: that would write the inode, and
 * writing an inode can wait for a journal commit in progress. O_NOATIME is refused (EPERM) for
 * files another user owns, which a data directory copied by root may hold.
 */
function openRecord(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NOATIME);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    return openSync(path, constants.O_RDONLY);
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Deletes a file durably; a missing file is not an error. */
export async function removeDurable(path: string): Promise<void> {
  try {
    await rm(path);
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  await syncDir(dirname(path));
}
