import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ResumeRecord, ResumeStateStore } from '../state-store.js';

/** `$XDG_CACHE_HOME/spool`, or `~/.cache/spool`. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'spool');
}

/**
 * One small JSON file per interrupted upload, named by a hash of its key, replaced atomically
 * (write a temporary file, rename). Deleted when the upload completes or its session is gone.
 */
export class FileStateStore implements ResumeStateStore {
  constructor(readonly dir: string = join(defaultCacheDir(), 'uploads')) {}

  async get(key: string): Promise<ResumeRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const saved = JSON.parse(text) as { key?: unknown; record?: Partial<ResumeRecord> };
      const record = saved.record;
      // The file name is a hash: the key inside guards against the (theoretical) collision.
      if (
        saved.key !== key ||
        typeof record?.sessionUri !== 'string' ||
        typeof record.createdAt !== 'number'
      ) {
        return undefined;
      }
      return { sessionUri: record.sessionUri, createdAt: record.createdAt };
    } catch {
      // A torn or foreign file: as if there were none.
      return undefined;
    }
  }

  async set(key: string, record: ResumeRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = this.path(key);
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    // Session URIs are capabilities: readable by their owner only.
    await writeFile(temporary, JSON.stringify({ key, record }), { mode: 0o600 });
    await rename(temporary, path);
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  private path(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  }
}
