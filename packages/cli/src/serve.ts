import { jsonLogger, startSpool, type LogLevel } from '@spool/server';
import { formatFlags, parseFlags, UsageError, type FlagSpec } from './flags.js';

export const serveFlags: readonly FlagSpec[] = [
  {
    name: 'host',
    env: 'SPOOL_HOST',
    kind: 'string',
    default: '127.0.0.1',
    value: 'HOST',
    help: 'Address to listen on.',
  },
  {
    name: 'port',
    env: 'SPOOL_PORT',
    kind: 'integer',
    default: '4080',
    value: 'N',
    help: 'Port to listen on; 0 picks a free one.',
  },
  {
    name: 'data',
    env: 'SPOOL_DATA',
    kind: 'string',
    default: 'spool-data',
    value: 'DIR',
    help: 'Data directory (created if missing).',
  },
  {
    name: 'metadata',
    env: 'SPOOL_METADATA',
    kind: 'string',
    value: 'URL',
    help: 'postgres://… URL: keep sessions and objects in PostgreSQL (with --blobs; no --data).',
  },
  {
    name: 'blobs',
    env: 'SPOOL_BLOBS',
    kind: 'string',
    value: 'URL',
    help: 's3://BUCKET[/prefix]: keep the bytes in S3 (with --metadata; endpoint and keys from AWS_*).',
  },
  {
    name: 'bucket',
    env: 'SPOOL_BUCKETS',
    kind: 'list',
    value: 'NAME',
    help: 'Make sure this bucket exists; repeatable (comma-separated in the variable).',
  },
  {
    name: 'public-url',
    env: 'SPOOL_PUBLIC_URL',
    kind: 'string',
    value: 'URL',
    help: 'Base URL clients reach the server at, for Location and mediaLink behind a proxy.',
  },
  {
    name: 'session-ttl',
    env: 'SPOOL_SESSION_TTL',
    kind: 'duration',
    default: '7d',
    value: 'DURATION',
    help: 'How long a resumable session lives after it starts.',
  },
  {
    name: 'sweep-interval',
    env: 'SPOOL_SWEEP_INTERVAL',
    kind: 'duration',
    default: '1h',
    value: 'DURATION',
    help: 'How often expired sessions and their data are removed.',
  },
  {
    name: 'idle-timeout',
    env: 'SPOOL_IDLE_TIMEOUT',
    kind: 'duration',
    default: '2m',
    value: 'DURATION',
    help: 'Close a connection after this long without traffic; a partial upload is kept.',
  },
  {
    name: 'headers-timeout',
    env: 'SPOOL_HEADERS_TIMEOUT',
    kind: 'duration',
    default: '60s',
    value: 'DURATION',
    help: 'Time a client has to send its request headers.',
  },
  {
    name: 'log-level',
    env: 'SPOOL_LOG_LEVEL',
    kind: 'string',
    default: 'info',
    value: 'LEVEL',
    help: 'debug, info, warn or error.',
  },
  { name: 'help', kind: 'boolean', help: 'Show this help.' },
];

export const serveUsage = `Usage: spool serve [flags]

Serves the Google Cloud Storage upload and object API on a local data directory, or, with
--metadata and --blobs, on PostgreSQL and S3 shared by any number of servers.
When ready, prints "listening on http://HOST:PORT" as the first line on stdout; logs go to stderr.

Flags (each also read from the environment variable shown):
${formatFlags(serveFlags)}
`;

export async function serve(argv: readonly string[]): Promise<number> {
  const { values, positionals, explicit } = parseFlags(serveFlags, argv, process.env);
  if (values['help']) {
    process.stdout.write(serveUsage);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`spool serve takes no arguments; got "${positionals[0]}".`);
  const level = values['log-level'] as string;
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    throw new UsageError(`--log-level must be debug, info, warn or error.`);
  const port = values['port'] as number;
  if (port > 65535) throw new UsageError('--port must be at most 65535.');

  const metadata = values['metadata'] as string | undefined;
  const blobs = values['blobs'] as string | undefined;
  if ((metadata === undefined) !== (blobs === undefined))
    throw new UsageError('--metadata and --blobs go together: give both, or neither.');
  if (metadata !== undefined && explicit.has('data')) {
    throw new UsageError(
      '--data cannot be used with --metadata and --blobs: nothing is kept on local disk then.',
    );
  }

  const log = jsonLogger(level as LogLevel);
  const spool = await startSpool({
    host: values['host'] as string,
    port,
    dataDir: values['data'] as string,
    distributed: metadata !== undefined && blobs !== undefined ? { metadata, blobs } : undefined,
    buckets: (values['bucket'] as string[] | undefined) ?? [],
    publicUrl: values['public-url'] as string | undefined,
    sessionTtlMs: values['session-ttl'] as number,
    sweepIntervalMs: values['sweep-interval'] as number,
    idleTimeoutMs: values['idle-timeout'] as number,
    headersTimeoutMs: values['headers-timeout'] as number,
    log,
  });
  process.stdout.write(`listening on ${spool.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info('shutting down', { signal });
      spool.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
