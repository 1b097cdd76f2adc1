import { loadSigningCredential, signUrl } from '@spool/server';
import { formatFlags, parseFlags, UsageError, type FlagSpec } from './flags.js';

export const signFlags: readonly FlagSpec[] = [
  {
    name: 'method',
    kind: 'string',
    default: 'GET',
    value: 'METHOD',
    help: 'HTTP method the URL allows: GET, HEAD, PUT, POST or DELETE.',
  },
  {
    name: 'resumable',
    kind: 'boolean',
    help: 'A URL that starts a resumable upload: POST with x-goog-resumable: start.',
  },
  {
    name: 'key',
    env: 'SPOOL_SIGNING_KEY',
    kind: 'string',
    value: 'FILE',
    help: 'Service account key file (JSON) to sign with.',
  },
  {
    name: 'hmac',
    env: 'SPOOL_HMAC_KEY',
    kind: 'string',
    value: 'ID:SECRET',
    help: 'HMAC key to sign with instead.',
  },
  {
    name: 'endpoint',
    env: 'SPOOL_ENDPOINT',
    kind: 'string',
    value: 'URL',
    help: 'Server the URL is for ($STORAGE_EMULATOR_HOST, then https://storage.googleapis.com, when unset).',
  },
  {
    name: 'expires',
    kind: 'duration',
    default: '15m',
    value: 'DURATION',
    help: 'How long the URL stays valid (at most 7d).',
  },
  {
    name: 'header',
    kind: 'list',
    value: 'NAME:VALUE',
    help: 'A header the request must carry with this value (signed); repeatable.',
  },
  { name: 'help', kind: 'boolean', help: 'Show this help.' },
];

export const signUsage = `Usage: spool sign gs://BUCKET/OBJECT [flags]

Prints a V4 signed URL for one request on one object, signed with a service account key or an
HMAC key: a backend hands it to a browser, which needs no other credential. The server must
trust the key (spool serve --signing-key / --hmac-key-file).

Flags:
${formatFlags(signFlags)}
`;

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']);
const WEEK_MS = 7 * 24 * 3600 * 1000;

export async function sign(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseFlags(signFlags, argv, process.env);
  if (values['help']) {
    process.stdout.write(signUsage);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError('Give exactly one gs://BUCKET/OBJECT to sign for.');
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(positionals[0]!);
  if (!m) throw new UsageError(`"${positionals[0]!}" is not of the form gs://BUCKET/OBJECT.`);
  const resumable = values['resumable'] === true;
  const method = resumable ? 'POST' : (values['method'] as string).toUpperCase();
  if (!METHODS.has(method))
    throw new UsageError(`--method must be one of ${[...METHODS].join(', ')}.`);
  const expires = values['expires'] as number;
  if (expires < 1000 || expires > WEEK_MS)
    throw new UsageError('--expires must be between 1s and 7d.');
  const headers: Record<string, string> = resumable ? { 'x-goog-resumable': 'start' } : {};
  for (const entry of (values['header'] as string[] | undefined) ?? []) {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header "${entry}" must be NAME:VALUE.`);
    headers[entry.slice(0, colon).trim().toLowerCase()] = entry.slice(colon + 1).trim();
  }
  const key = values['key'] as string | undefined;
  const hmac = values['hmac'] as string | undefined;
  if ((key === undefined) === (hmac === undefined))
    throw new UsageError('Sign with either --key FILE or --hmac ID:SECRET.');
  const credential = await loadSigningCredential({
    ...(key !== undefined && { keyFile: key }),
    ...(hmac !== undefined && { hmac }),
  });
  const endpoint = (
    (values['endpoint'] as string | undefined) ??
    process.env['STORAGE_EMULATOR_HOST'] ??
    'https://storage.googleapis.com'
  ).replace(/\/+$/, '');
  const object = m[2]!.split('/').map(encodeURIComponent).join('/');
  const url = signUrl(credential, {
    method,
    url: `${endpoint}/${encodeURIComponent(m[1]!)}/${object}`,
    headers,
    expiresInSeconds: Math.round(expires / 1000),
    now: Date.now(),
  });
  process.stdout.write(`${url}\n`);
  return 0;
}
