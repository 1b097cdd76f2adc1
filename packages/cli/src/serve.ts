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
    help: 'Data directory (created if missing). One server at a time: a second `spool serve` on it refuses to start and names the first.',
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
    name: 'signing-key',
    env: 'SPOOL_SIGNING_KEYS',
    kind: 'list',
    value: 'FILE',
    help: 'A service account key file (or EMAIL=PEM file) whose V4 signed URLs are accepted; repeatable.',
  },
  {
    name: 'hmac-key-file',
    env: 'SPOOL_HMAC_KEY_FILE',
    kind: 'string',
    value: 'FILE',
    help: 'A file of "ACCESS_ID SECRET" lines: HMAC keys whose V4 signed URLs are accepted.',
  },
  {
    name: 'fault-injection',
    env: 'SPOOL_FAULT_INJECTION',
    kind: 'boolean',
    help: 'Let requests ask for injected faults, as storage-testbench does (README, "Fault injection").',
  },
  {
    name: 'token-file',
    env: 'SPOOL_TOKEN_FILE',
    kind: 'string',
    value: 'FILE',
    help: 'Require bearer tokens: one per line, each optionally followed by the comma-separated buckets it may use and until=TIME.',
  },
  {
    name: 'cors-origin',
    env: 'SPOOL_CORS_ORIGINS',
    kind: 'list',
    value: 'ORIGIN',
    help: 'An origin browsers may call from (e.g. https://app.example, or *); repeatable.',
  },
  {
    name: 'tls-cert',
    env: 'SPOOL_TLS_CERT',
    kind: 'string',
    value: 'FILE',
    help: 'Serve HTTPS with this PEM certificate (with --tls-key); reloaded on SIGHUP.',
  },
  {
    name: 'tls-key',
    env: 'SPOOL_TLS_KEY',
    kind: 'string',
    value: 'FILE',
    help: 'The PEM private key of --tls-cert.',
  },
  {
    name: 'max-object-size',
    env: 'SPOOL_MAX_OBJECT_SIZE',
    kind: 'size',
    default: '5TiB',
    value: 'SIZE',
    help: 'Largest object an upload may create.',
  },
  {
    name: 'max-header-size',
    env: 'SPOOL_MAX_HEADER_SIZE',
    kind: 'size',
    default: '16KiB',
    value: 'SIZE',
    help: 'Largest request line and headers; larger requests get 431.',
  },
  {
    name: 'max-sessions-per-token',
    env: 'SPOOL_MAX_SESSIONS_PER_TOKEN',
    kind: 'integer',
    default: '1000',
    value: 'N',
    help: 'Open resumable sessions one bearer token may have.',
  },
  {
    name: 'session-rate',
    env: 'SPOOL_SESSION_RATE',
    kind: 'integer',
    default: '1000',
    value: 'N',
    help: 'Upload sessions a token (or client address) may start per second, in bursts of twice that; 0 for no limit.',
  },
  {
    name: 'min-body-rate',
    env: 'SPOOL_MIN_BODY_RATE',
    kind: 'size',
    default: '1KiB',
    value: 'SIZE',
    help: 'Bytes per second below which an upload body is cut (measured over each --idle-timeout); 0 for never.',
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
    signingKeys: (values['signing-key'] as string[] | undefined) ?? [],
    hmacKeyFile: values['hmac-key-file'] as string | undefined,
    tokenFile: values['token-file'] as string | undefined,
    corsOrigins: (values['cors-origin'] as string[] | undefined) ?? [],
    tls: tlsFiles(
      values['tls-cert'] as string | undefined,
      values['tls-key'] as string | undefined,
    ),
    maxObjectSize: values['max-object-size'] as number,
    maxHeaderSize: values['max-header-size'] as number,
    maxSessionsPerToken: values['max-sessions-per-token'] as number,
    sessionRate: values['session-rate'] as number,
    minBodyRate: values['min-body-rate'] as number,
    faultInjection: values['fault-injection'] === true,
    log,
  });
  process.stdout.write(`listening on ${spool.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info('shutting down', { signal });
      spool.close().then(resolve, resolve);
    };
    process.on('SIGHUP', () => {
      spool.reloadTls().then(
        () => log.info('TLS certificate reloaded'),
        (error: unknown) =>
          log.error('TLS certificate reload failed; the old one stays', { error: String(error) }),
      );
    });
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

function tlsFiles(certFile: string | undefined, keyFile: string | undefined) {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined)
    throw new UsageError('--tls-cert and --tls-key go together.');
  return { certFile, keyFile };
}
