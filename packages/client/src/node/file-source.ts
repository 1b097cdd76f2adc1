import { open, realpath, stat } from 'node:fs/promises';
import { SourceError } from '../errors.js';
import type { SeekableSource } from '../sources.js';

/** Large reads keep hashing and socket writes efficient. */
const READ_SIZE = 1024 * 1024;

/**
 * A file, read from disk at whatever offset the server asks for. Its fingerprint (real path,
 * device, inode, size, modification time) names this content for resuming after a restart; every
 * read checks that size and modification time are unchanged, so a file that changes in the middle
 * of an upload stops it with a clear error instead of mixing two versions.
 */
export async function fileSource(path: string): Promise<SeekableSource> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    throw new SourceError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  const info = await stat(real);
  if (!info.isFile()) {
    throw new SourceError(`${path} is not a regular file; to upload a stream, pass it as one.`);
  }
  const { size, mtimeMs, ino, dev } = info;
  return {
    size,
    fingerprint: `file:${JSON.stringify([real, dev, ino, size, mtimeMs])}`,
    async *read(start, end) {
      if (end <= start) return;
      const handle = await open(real, 'r').catch((error: Error) => {
        throw new SourceError(`Cannot read ${path}: ${error.message}`, { cause: error });
      });
      try {
        const now = await handle.stat();
        if (now.size !== size || now.mtimeMs !== mtimeMs || now.ino !== ino) {
          throw new SourceError(
            `${path} changed while it was being uploaded (it was ${size} bytes, modified ${new Date(mtimeMs).toISOString()}; now ${now.size} bytes, modified ${new Date(now.mtimeMs).toISOString()}). Upload it again once it no longer changes.`,
          );
        }
        // One buffer for every piece: a piece is only needed until the next one is pulled
        // (sources.ts), and allocating a buffer per read leaves tens of MiB of garbage behind.
        const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, end - start));
        for (let at = start; at < end;) {
          const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - at), at);
          if (bytesRead === 0) return; // shorter than it was: the cursor reports the change
          at += bytesRead;
          yield buffer.subarray(0, bytesRead);
        }
      } finally {
        await handle.close();
      }
    },
  };
}
