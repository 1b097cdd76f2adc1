import { closeSync, constants, fstatSync, ftruncate, openSync, writev } from 'node:fs';
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BlobState, BlobStore, BlobWriter, WriterStart } from './types.js';
import { BufferAllowance } from '../buffer-allowance.js';
import { createFile, fdatasyncFd, isNotFound, removeDurable, syncDir } from './fs-util.js';

// Which calls run in place and which in the thread pool: see the top of fs-util.ts.
const truncateFd = promisify(ftruncate);

/** Bytes waiting for the disk before `write` makes the caller wait: 4 MiB for one upload alone. */
const pendingWrites = new BufferAllowance(16 * 1024 * 1024, 128 * 1024, 4 * 1024 * 1024);
/** At most this many buffers go into one writev call. */
const MAX_BATCH_BUFFERS = 256;

/**
 * Blobs as files in one directory: session data is appended, and the file becomes the object.
 * A blob that no record names is invisible (its name is random) and is deleted at the next start
 * (`removeUnlisted`), which is what makes a one-request upload cut short by a crash leave nothing.
 */
export class FsBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}

  pathOf(blobId: string): string {
    return join(this.dir, blobId);
  }

  async openWriter(blobId: string, { offset }: WriterStart): Promise<BlobWriter> {
    // Nothing of a session at offset 0 is on record: its file may not exist yet, or may have been
    // created by an earlier request that ended before its first commit, so its directory entry
    // is not known to be durable and the first commit makes it so. Past 0, a commit did.
    const fd =
      offset === 0
        ? await createFile(this.pathOf(blobId), constants.O_RDWR | constants.O_CREAT)
        : openExisting(this.pathOf(blobId), blobId, offset);
    try {
      const { size } = fstatSync(fd);
      if (size < offset) {
        throw new Error(
          `Blob ${blobId} holds ${size} bytes, fewer than the ${offset} recorded as stored.`,
        );
      }
      if (size > offset) await truncateFd(fd, offset);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return new FileBlobWriter(fd, offset, { newFileDir: offset === 0 ? this.dir : undefined });
  }

  async openOneShotWriter(blobId: string): Promise<BlobWriter> {
    const path = this.pathOf(blobId);
    const fd = await createFile(path, 'wx');
    return new FileBlobWriter(fd, 0, {
      newFileDir: this.dir,
      discard: () => rm(path, { force: true }),
    });
  }

  /** The session's file is the object's data already (its final commit made it durable). */
  async seal(): Promise<void> {}

  async read(
    blobId: string,
    start: number,
    end: number,
  ): Promise<NodeJS.ReadableStream | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(blobId), 'r');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return handle.createReadStream({ start, end, highWaterMark: 256 * 1024 });
  }

  async size(blobId: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(blobId))).size;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async delete(blobId: string): Promise<void> {
    await removeDurable(this.pathOf(blobId));
  }

  /**
   * Crash leftovers go at start instead (`removeUnlisted`): a crash is the only way to leave
   * them, and every crash is followed by a start.
   */
  removeOrphans(): Promise<number> {
    return Promise.resolve(0);
  }

  /** Deletes every blob not in `keep`; returns how many. Only while nothing writes blobs. */
  async removeUnlisted(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const blobId of await readdir(this.dir)) {
      if (keep.has(blobId)) continue;
      await rm(this.pathOf(blobId), { force: true });
      removed++;
    }
    if (removed > 0) await syncDir(this.dir);
    return removed;
  }

  async close(): Promise<void> {}
}

/**
 * Appends with positional writes, one writev in flight at a time while the next batch gathers,
 * so the network and the disk work in parallel without unbounded buffering.
 */
interface WriterOptions {
  /** Set when the file was just created: its directory entry must be made durable once. */
  newFileDir?: string | undefined;
  /** For one-shot blobs: removes the file when the writer is abandoned. */
  discard?: () => Promise<void>;
}

class FileBlobWriter implements BlobWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly allowance = pendingWrites.member();
  private position: number;
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];
  /**
   * Set when a final commit or an abandon begins: no write may start after it, because the
   * descriptor is about to be closed and its number may then be reused by another file.
   */
  private ending = false;
  private closed = false;
  /** The end of what the last commit made durable (or of what the file held at the start). */
  private committed: number;

  constructor(
    private readonly fd: number,
    offset: number,
    private readonly options: WriterOptions,
  ) {
    this.position = offset;
    this.committed = offset;
  }

  /** A failed background write surfaces on the next call. */
  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.throwIfFailed();
    if (this.ending) throw new Error('write after the blob writer was closed');
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.allowance.holding(this.pendingBytes);
    this.flushing ??= this.flush();
    if (this.pendingBytes >= pendingWrites.share) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.throwIfFailed();
    }
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH_BUFFERS);
        const bytes = batch.reduce((n, b) => n + b.length, 0);
        let written = 0;
        while (written < bytes) {
          const rest = written === 0 ? batch : remainder(batch, written);
          written += await writevAt(this.fd, rest, this.position + written);
        }
        this.position += bytes;
        this.pendingBytes -= bytes;
        this.allowance.holding(this.pendingBytes);
        if (this.pendingBytes < pendingWrites.share) this.wake();
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.pending = [];
      this.pendingBytes = 0;
      this.allowance.holding(0);
      this.wake();
    } finally {
      this.flushing = undefined;
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until the bytes below `offset` are in the file (handed to the kernel). */
  private async writtenTo(offset: number): Promise<void> {
    while (this.position < offset && this.flushing) await this.flushing;
    this.throwIfFailed();
  }

  private async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.throwIfFailed();
  }

  /** The file's length says where the bytes end: no state to record. */
  /** A checkpoint needs only the bytes below it written: writes past it may go on meanwhile. */
  readonly concurrentCheckpoints = true;

  async commit(offset: number, final: boolean): Promise<BlobState | undefined> {
    if (final) {
      this.ending = true;
      await this.drain();
    } else await this.writtenTo(offset);
    if (offset > this.position)
      throw new Error(`cannot commit ${offset} bytes: only ${this.position} were written`);
    if (final && offset < this.position) await truncateFd(this.fd, offset);
    // The data and the file's directory entry are independent: both syncs wait for the disk at
    // once (a small upload's latency is mostly such waits, one after another).
    const newFileDir = this.options.newFileDir;
    await Promise.all([
      fdatasyncFd(this.fd),
      newFileDir === undefined ? undefined : syncDir(newFileDir),
    ]);
    this.options.newFileDir = undefined;
    this.committed = offset;
    if (final) this.close();
    return undefined;
  }

  async abandon(): Promise<void> {
    this.ending = true;
    await this.drain().catch(() => undefined);
    // Bytes past the last commit were never acknowledged; on a full disk their space matters.
    // (A write that failed half-way may have left more than `position` says.)
    if (!this.closed && !this.options.discard)
      await truncateFd(this.fd, this.committed).catch(() => undefined);
    this.close();
    await this.options.discard?.();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function openExisting(path: string, blobId: string, offset: number): number {
  try {
    return openSync(path, 'r+');
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new Error(`Blob ${blobId} is missing, though ${offset} bytes are recorded as stored.`);
  }
}

function writevAt(fd: number, buffers: Uint8Array[], position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    writev(fd, buffers, position, (error, written) => (error ? reject(error) : resolve(written))),
  );
}

/** The buffers of `batch` after its first `skip` bytes. */
function remainder(batch: Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let left = skip;
  for (const b of batch) {
    if (left >= b.length) {
      left -= b.length;
      continue;
    }
    out.push(left > 0 ? b.subarray(left) : b);
    left = 0;
  }
  return out;
}
