import { mkdir, readFile, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DEFAULT_SESSION_TTL_MS } from '@spool/core';
import { createHandler } from './app.js';
import { openDistributed, type DistributedStorage } from './distributed.js';
import { ensureBucket } from './handlers/buckets.js';
import { SessionLocks } from './locks.js';
import { jsonLogger, type Logger } from './log.js';
import type { Services } from './services.js';
import { FsBlobStore } from './store/fs-blobs.js';
import { FsMetadataStore } from './store/fs-metadata.js';
import { recoverFsStore } from './store/fs-recovery.js';
import { writeFileAtomic } from './store/fs-util.js';
import { sweepExpiredSessions, sweepReleasedBlobs } from './upload/expiry.js';

export interface SpoolOptions {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** PostgreSQL and S3 instead of the data directory (which is then not used). */
  readonly distributed?: DistributedStorage | undefined;
  readonly buckets: readonly string[];
  readonly sessionTtlMs: number;
  readonly sweepIntervalMs: number;
  readonly publicUrl: string | undefined;
  /** A connection with no traffic for this long is closed (its partial body is kept). */
  readonly idleTimeoutMs: number;
  /** Time allowed to send the request line and headers. */
  readonly headersTimeoutMs: number;
  readonly log: Logger;
}

export const defaultOptions: SpoolOptions = {
  host: '127.0.0.1',
  port: 4080,
  dataDir: 'spool-data',
  buckets: [],
  sessionTtlMs: DEFAULT_SESSION_TTL_MS,
  sweepIntervalMs: 60 * 60 * 1000,
  publicUrl: undefined,
  idleTimeoutMs: 120_000,
  headersTimeoutMs: 60_000,
  log: jsonLogger('info'),
};

const FORMAT = { format: 'spool-data', version: 1 };

/** Opens (or creates) a data directory and brings it to a consistent state. */
export async function openDataDir(
  dataDir: string,
  log: Logger,
  sessionTtlMs: number,
): Promise<Services> {
  const root = resolve(dataDir);
  await mkdir(root, { recursive: true });
  await checkFormat(root);
  const tmp = join(root, 'tmp');
  await mkdir(tmp, { recursive: true });
  await mkdir(join(root, 'blobs'), { recursive: true });
  const metadata = await FsMetadataStore.open(root, tmp);
  const blobs = new FsBlobStore(join(root, 'blobs'));
  const report = await recoverFsStore(metadata, blobs, log);
  log.info('data directory ready', { dataDir: root, ...report });
  return { metadata, blobs, locks: new SessionLocks(), log, sessionTtlMs, now: () => Date.now() };
}

async function checkFormat(root: string): Promise<void> {
  const marker = join(root, 'spool-data.json');
  let text: string | undefined;
  try {
    text = await readFile(marker, 'utf8');
  } catch {
    // No marker: only an empty directory may become a data directory.
    if ((await readdir(root)).length > 0) {
      throw new Error(
        `${root} is not empty and is not a Spool data directory; choose a new or empty directory for --data.`,
      );
    }
    await writeFileAtomic(root, marker, JSON.stringify(FORMAT));
    return;
  }
  const found = JSON.parse(text) as { format?: string; version?: number };
  if (found.format !== FORMAT.format || found.version !== FORMAT.version) {
    throw new Error(
      `${root} holds Spool data of version ${String(found.version)}; this server reads version ${FORMAT.version}.`,
    );
  }
}

export interface RunningSpool {
  readonly url: string;
  readonly server: Server;
  readonly services: Services;
  /** Stops taking requests, lets writes in progress persist what they have, then closes. */
  close(): Promise<void>;
}

export async function startSpool(partial: Partial<SpoolOptions> = {}): Promise<RunningSpool> {
  const options = { ...defaultOptions, ...partial };
  const services = options.distributed
    ? await openDistributed(options.distributed, options.log, options.sessionTtlMs)
    : await openDataDir(options.dataDir, options.log, options.sessionTtlMs);
  const server = createServer(
    {
      // Uploads of any length are fine; silence is not. requestTimeout would cut long uploads.
      requestTimeout: 0,
      headersTimeout: options.headersTimeoutMs,
      keepAliveTimeout: 5_000,
    },
    createHandler(services, { publicUrl: options.publicUrl?.replace(/\/+$/, ''), scheme: 'http' }),
  );
  server.setTimeout(options.idleTimeoutMs);
  try {
    for (const bucket of options.buckets) await ensureBucket(services, bucket);
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolvePromise();
      });
    });
  } catch (error) {
    // Connections to PostgreSQL would keep a process that cannot serve alive.
    await closeServices(services);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  const sweeper = setInterval(() => {
    sweepExpiredSessions(services).then(
      (removed) => removed > 0 && services.log.info('expired sessions removed', { removed }),
      (error: unknown) => services.log.error('session sweep failed', { error: String(error) }),
    );
    sweepReleasedBlobs(services).then(
      (deleted) => deleted > 0 && services.log.info('released blobs deleted', { deleted }),
      (error: unknown) => services.log.error('blob sweep failed', { error: String(error) }),
    );
  }, options.sweepIntervalMs);
  sweeper.unref();

  return {
    url,
    server,
    services,
    async close() {
      clearInterval(sweeper);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      services.locks.supersedeAll();
      const deadline = setTimeout(() => server.closeAllConnections(), 5_000);
      await closed;
      clearTimeout(deadline);
      await closeServices(services);
    },
  };
}

async function closeServices(services: Services): Promise<void> {
  await services.locks.close();
  await services.metadata.close();
  await services.blobs.close();
}
