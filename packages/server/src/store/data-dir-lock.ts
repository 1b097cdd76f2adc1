import { stat } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import type { Logger } from '../log.js';

/**
 * One `spool serve` per data directory. A second one would take the first's uploads in progress
 * for a crash's leftovers and delete their data at its start, and the two would not see each
 * other's session locks.
 *
 * The lock is a socket listening on a name in Linux's abstract namespace, derived from the
 * directory's device and inode, so that another path to the same directory meets the same lock.
 * Only one process can listen on a name, and the kernel frees the name when that process ends,
 * even by SIGKILL: a crash never leaves a stale lock to clear by hand. The namespace belongs to
 * the network namespace, so servers in different containers sharing one volume do not see each
 * other. The holder answers a connection with its process ID, so that a refusal can name it.
 */
export interface DataDirLock {
  release(): Promise<void>;
}

export async function lockDataDir(root: string, log: Logger): Promise<DataDirLock> {
  if (process.platform !== 'linux') {
    log.warn('the data directory is not locked on this platform: run one spool serve on it', {
      dataDir: root,
    });
    return { release: () => Promise.resolve() };
  }
  const { dev, ino } = await stat(root);
  const name = `\0spool-data-dir-${dev}-${ino}`;
  const server = createServer((socket) => socket.end(JSON.stringify({ pid: process.pid })));
  server.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => resolve());
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const pid = await holder(name);
    throw new Error(
      `${root} is in use by another spool serve${pid === undefined ? '' : ` (process ${pid})`}; stop that one first, or give this one another --data.`,
    );
  }
  // The HTTP server keeps the process alive; the lock must not keep a closing one.
  server.unref();
  return { release: () => close(server) };
}

/** The process ID the lock's holder answers with, if it answers within a second. */
function holder(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(name);
    let text = '';
    const done = (pid?: number) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(1000, () => done());
    socket.on('error', () => done());
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.length > 100) done();
    });
    socket.on('end', () => done(parsePid(text)));
  });
}

function parsePid(text: string): number | undefined {
  try {
    const pid = (JSON.parse(text) as { pid?: unknown } | null)?.pid;
    return Number.isSafeInteger(pid) ? (pid as number) : undefined;
  } catch {
    return undefined;
  }
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
