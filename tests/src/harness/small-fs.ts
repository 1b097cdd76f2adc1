import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small filesystem of its own (a tmpfs with a size limit) to fill up. Mounting needs root, as
 * CI has; elsewhere `mount` says why it cannot, and so does the error.
 */
export class SmallFs {
  private constructor(readonly path: string) {}

  static async mount(sizeMiB: number): Promise<SmallFs> {
    const path = await mkdtemp(join(tmpdir(), 'spool-small-fs-'));
    const uid = process.getuid?.();
    const run = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', path], {
      encoding: 'utf8',
    });
    if (run.status !== 0) {
      await rm(path, { recursive: true, force: true });
      throw new Error(
        `Cannot mount a ${sizeMiB} MiB tmpfs to fill up (running as uid ${uid}; mounting needs root, which CI has): ${(run.stderr || run.error?.message || '').trim()}`,
      );
    }
    return new SmallFs(path);
  }

  /** Bytes still free. */
  async free(): Promise<number> {
    const stats = await statfs(this.path);
    return stats.bavail * stats.bsize;
  }

  /** Fills the filesystem with a ballast file until only `leave` bytes are free. */
  async fillLeaving(leave: number): Promise<void> {
    await writeFile(
      join(this.path, 'ballast'),
      Buffer.alloc(Math.max(0, (await this.free()) - leave)),
    );
  }

  /** Frees what the ballast took. */
  async removeBallast(): Promise<void> {
    await rm(join(this.path, 'ballast'), { force: true });
  }

  async unmount(): Promise<void> {
    const run = spawnSync('umount', [this.path], { encoding: 'utf8' });
    if (run.status !== 0) spawnSync('umount', ['-l', this.path]);
    await rm(this.path, { recursive: true, force: true });
  }
}
