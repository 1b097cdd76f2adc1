import { mkdir, readFile, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DEFAULT_SESSION_TTL_MS, MAX_OBJECT_SIZE } from '@spool/core';
import { createHandler } from './app.js';
import { openDistributed, type DistributedStorage } from './distributed.js';
import { FaultInjector } from './faults/injector.js';
import { answerClientError, refuseConnect } from './http/client-error.js';
import { ensureBucket } from './handlers/buckets.js';
import { SessionLocks, type Locker } from './locks.js';
import { jsonLogger, type Logger } from './log.js';
import type { Services } from './services.js';
import type { Stores } from './store/types.js';
import { loadVerificationKeys } from './auth/keys.js';
import { parseTokenFile, TokenFileError, type TokenGrant } from './auth/tokens.js';
import { createMetrics } from './ops/metrics.js';
import { RateLimiter } from './ops/rate-limiter.js';
import { createTlsServer, type TlsFiles } from './ops/tls.js';
import { builtPageDir, loadUploadPage } from './http/upload-page.js';
import { lockDataDir } from './store/data-dir-lock.js';
import { FsBlobStore } from './store/fs-blobs.js';
import { FsMetadataStore } from './store/fs-metadata.js';
import { recoverFsStore } from './store/fs-recovery.js';
import { writeFileAtomic } from './store/fs-util.js';
import { sweepExpiredSessions, sweepLeftovers } from './upload/expiry.js';

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
  /** storage-testbench compatible fault injection: requests may ask the server to fail. */
  readonly faultInjection: boolean;
  readonly log: Logger;
  /** Service account key files (or EMAIL=PEM) that V4 signed URLs may be signed with. */
  readonly signingKeys: readonly string[];
  /** A file of `ACCESS_ID SECRET` lines: HMAC keys V4 signed URLs may be signed with. */
  readonly hmacKeyFile: string | undefined;
  /** Bearer tokens, one per line with the buckets each may use; none: no authentication. */
  readonly tokenFile: string | undefined;
  /** Origins browsers may call from ("*" for any). */
  readonly corsOrigins: readonly string[];
  readonly maxObjectSize: number;
  /** Largest request line plus headers, in bytes. */
  readonly maxHeaderSize: number;
  readonly maxSessionsPerToken: number;
  /** Session starts per second per token (or client address); 0: no limit. */
  readonly sessionRate: number;
  /** Bytes per second below which a request body is cut (checked every idle timeout); 0: never. */
  readonly minBodyRate: number;
  /** Serve HTTPS with this certificate and key (reloaded on reloadTls, e.g. on SIGHUP). */
  readonly tls: TlsFiles | undefined;
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
  faultInjection: false,
  log: jsonLogger('info'),
  signingKeys: [],
  hmacKeyFile: undefined,
  tokenFile: undefined,
  corsOrigins: [],
  maxObjectSize: MAX_OBJECT_SIZE,
  maxHeaderSize: 16 * 1024,
  maxSessionsPerToken: 1000,
  sessionRate: 1000,
  minBodyRate: 1024,
  tls: undefined,
};

const FORMAT = { format: 'spool-data', version: 1 };

/** Opens (or creates) a data directory and brings it to a consistent state. */
export async function openDataDir(dataDir: string, log: Logger): Promise<Stores> {
  const root = resolve(dataDir);
  await mkdir(root, { recursive: true });
  const lock = await lockDataDir(root, log);
  try {
    await checkFormat(root);
    const tmp = join(root, 'tmp');
    await mkdir(tmp, { recursive: true });
    await mkdir(join(root, 'blobs'), { recursive: true });
    const metadata = await FsMetadataStore.open(root, tmp, lock);
    const blobs = new FsBlobStore(join(root, 'blobs'));
    const report = await recoverFsStore(metadata, blobs, log);
    log.info('data directory ready', { dataDir: root, ...report });
    return { metadata, blobs };
  } catch (error) {
    await lock.release();
    throw error;
  }
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
  /** Reads the TLS certificate and key again (no-op without TLS). */
  reloadTls(): Promise<void>;
  /** Stops taking requests, lets writes in progress persist what they have, then closes. */
  close(): Promise<void>;
}

export async function startSpool(partial: Partial<SpoolOptions> = {}): Promise<RunningSpool> {
  const options = { ...defaultOptions, ...partial };
  // Key and token files are read before anything else, so a configuration mistake stops the start.
  const signatureKeys = await loadVerificationKeys(options.signingKeys, options.hmacKeyFile);
  const tokens =
    options.tokenFile === undefined ? undefined : await loadTokenFile(options.tokenFile);
  const { locks, ...stores }: Stores & { readonly locks: Locker } = options.distributed
    ? await openDistributed(options.distributed, options.log)
    : { ...(await openDataDir(options.dataDir, options.log)), locks: new SessionLocks() };
  const services: Services = {
    ...stores,
    locks,
    log: options.log,
    sessionTtlMs: options.sessionTtlMs,
    signatureKeys,
    tokens,
    cors: { origins: new Set(options.corsOrigins) },
    limits: {
      maxObjectSize: options.maxObjectSize,
      maxSessionsPerToken: options.maxSessionsPerToken,
      minBodyRate: options.minBodyRate,
      bodyRateWindowMs: options.idleTimeoutMs,
    },
    sessionRate: new RateLimiter(options.sessionRate, Math.max(1, options.sessionRate * 2)),
    metrics: createMetrics({
      openSessions: () => stores.metadata.countOpenSessions(),
      uploadsInProgress: () => locks.active,
    }),
    now: () => Date.now(),
  };
  try {
    return await serve(services, options);
  } catch (error) {
    // Connections to PostgreSQL would keep a process that cannot serve alive.
    await closeServices(services);
    throw error;
  }
}

async function serve(services: Services, options: SpoolOptions): Promise<RunningSpool> {
  const { tokens } = services;
  for (const bucket of options.buckets) await ensureBucket(services, bucket);
  if (options.faultInjection)
    options.log.warn('fault injection is on: requests can ask this server to fail them');

  const uploadPage = await loadUploadPage(builtPageDir());
  if (!uploadPage) options.log.warn('the upload page is not built (npm run build): / answers 404');
  const handler = createHandler(services, {
    publicUrl: options.publicUrl?.replace(/\/+$/, ''),
    scheme: options.tls ? 'https' : 'http',
    faultInjection: options.faultInjection ? new FaultInjector(options.log) : undefined,
    uploadPage,
  });
  const serverOptions = {
    // Uploads of any length are fine; silence is not. requestTimeout would cut long uploads.
    requestTimeout: 0,
    headersTimeout: options.headersTimeoutMs,
    keepAliveTimeout: 5_000,
    maxHeaderSize: options.maxHeaderSize,
  };
  let reloadTls = () => Promise.resolve();
  let server: Server;
  if (options.tls) {
    const tls = await createTlsServer(options.tls, serverOptions, handler);
    server = tls.server;
    reloadTls = tls.reload;
  } else {
    server = createServer(serverOptions, handler);
  }
  server.setTimeout(options.idleTimeoutMs);
  server.on('clientError', (error: NodeJS.ErrnoException, socket) =>
    answerClientError(error, socket, options),
  );
  server.on('connect', (_req, socket) => refuseConnect(socket));
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${address.port}`;
  if (!tokens && !isLoopback(address.address)) warnExposed(options.log, url);

  const sweeper = setInterval(() => {
    sweepExpiredSessions(services).then(
      (removed) => {
        if (removed === 0) return;
        services.metrics.sessionsExpired.inc({}, removed);
        services.log.info('expired sessions removed', { removed });
      },
      (error: unknown) => services.log.error('session sweep failed', { error: String(error) }),
    );
    sweepLeftovers(services).then(
      (deleted) => deleted > 0 && services.log.info('leftover data deleted', { deleted }),
      (error: unknown) => services.log.error('leftover sweep failed', { error: String(error) }),
    );
  }, options.sweepIntervalMs);
  sweeper.unref();

  return {
    url,
    server,
    services,
    reloadTls,
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

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address === '::ffff:127.0.0.1';
}

/** Listening beyond this machine with no authentication is allowed, but never quietly. */
function warnExposed(log: Logger, url: string): void {
  const message = `spool serve is listening on ${url} WITHOUT AUTHENTICATION: anyone who can reach it can read, write and delete every object. Give it --token-file, or bind to 127.0.0.1.`;
  log.warn(message);
  process.stderr.write(`\n*** WARNING: ${message}\n\n`);
}

async function loadTokenFile(path: string): Promise<Map<string, TokenGrant>> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new TokenFileError(`Cannot read the token file ${path}: ${error.code ?? error.message}.`);
  });
  return parseTokenFile(text, path);
}
