import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

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
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` so that a crash at any instant leaves either the old or the new
 * content: write a temporary file, fsync it, rename it over the target, fsync the directory.
 */
export async function writeFileAtomic(
  tmpDir: string,
  path: string,
  data: string | Uint8Array,
): Promise<void> {
  const tmp = join(tmpDir, `${randomBytes(8).toString('hex')}.tmp`);
  let handle: FileHandle | undefined = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw error;
  }
  await syncDir(dirname(path));
}

/** Creates a directory and makes its entry in the parent durable. */
export async function makeDirDurable(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) await syncDir(dirname(dir));
}

export async function readJsonIfExists<T>(
  path: string,
  read: (p: string) => Promise<string>,
): Promise<T | undefined> {
  try {
    return JSON.parse(await read(path)) as T;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
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
