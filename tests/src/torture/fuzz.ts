// Random and mutated requests to every endpoint of a real server: methods, paths, query strings,
// headers (Content-Range above all) and bodies. No answer may be a 500 or an unexplained 5xx, the
// server must not crash, and afterwards what was stored is unchanged and a normal upload works.
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { upload } from '@spool/client/node';
import { auditDataDir, auditProblems } from '../harness/data-dir.js';
import { download, initiate, putChunk } from '../harness/gcs.js';
import { send } from '../harness/http.js';
import type { Random } from '../harness/random.js';
import { SpoolProcess } from '../harness/spool-process.js';
import { loggedErrors, type PhaseContext, type PhaseResult } from './phase.js';

export interface FuzzOptions {
  readonly durationMs: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
}

const BUCKET = 'fuzz';
/** A bucket the fuzzer never names: what it holds must not change. */
const KEPT = 'kept';

/** The 503 answers a correct server gives to a request it cannot take now (a gap, a newer request). */
const EXPLAINED_503 = [
  /exceeds already uploaded size/,
  /a newer request arrived on the same upload session/,
];

export async function fuzzRequests(ctx: PhaseContext, options: FuzzOptions): Promise<PhaseResult> {
  const { random, log } = ctx;
  const violations: string[] = [];
  let spool = await SpoolProcess.start({
    buckets: [BUCKET, KEPT],
    args: ['--session-rate', '0', '--fault-injection', '--headers-timeout', '5s'],
  });
  const kept = new Map<string, string>();
  for (let i = 0; i < 3; i++) {
    const bytes = random.bytes(random.int(0, 600_000));
    const name = `kept-${i}.bin`;
    const res = await putChunk(await initiate(spool.url, KEPT, name), undefined, bytes);
    if (res.status !== 200) throw new Error(`could not store ${name}: ${res.status}`);
    kept.set(name, md5(bytes));
  }
  const sessions: string[] = [];
  const statuses = new Map<string, number>();
  const figures = { generated: 0, mutated: 0, garbage: 0, unanswered: 0 };
  const until = Date.now() + options.durationMs;

  const worker = async () => {
    const own = random.fork();
    while (Date.now() < until && violations.length < 20) {
      const roll = own.next();
      let raw: Buffer;
      let kind: 'generated' | 'mutated' | 'garbage';
      if (roll < 0.05) {
        // Keep the bucket (requests may delete it when empty) and live sessions around, for
        // requests to aim at.
        await send({
          method: 'POST',
          url: `${spool.url}/storage/v1/b`,
          body: JSON.stringify({ name: BUCKET }),
        }).catch(() => undefined);
        const uri = await initiate(spool.url, BUCKET, `fuzz/${own.int(0, 20)}`).catch(
          () => undefined,
        );
        if (uri) sessions.push(new URL(uri).searchParams.get('upload_id')!);
        if (sessions.length > 50) sessions.shift();
        continue;
      } else if (roll < 0.6) {
        raw = generate(own, sessions);
        kind = 'generated';
      } else if (roll < 0.95) {
        raw = mutate(own, generate(own, sessions));
        kind = 'mutated';
      } else {
        raw = own.bytes(own.int(1, 2000));
        kind = 'garbage';
      }
      figures[kind]++;
      const answer = await exchangeRaw(spool.url, raw);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1];
      statuses.set(status ?? 'none', (statuses.get(status ?? 'none') ?? 0) + 1);
      const request = raw.subarray(0, 300).toString('latin1').split('\r\n\r\n')[0];
      if (status === undefined) {
        figures.unanswered++;
        // A request whose body the server did not read may lose its answer to the reset that
        // closing such a connection sends; a short one is read whole, and must be answered.
        if (kind === 'generated' && raw.length < 16 * 1024)
          violations.push(
            `not an HTTP answer to ${JSON.stringify(request)}: ${JSON.stringify(answer.slice(0, 200))}`,
          );
      } else if (
        status.startsWith('5') &&
        !(status === '503' && EXPLAINED_503.some((p) => p.test(answer)))
      ) {
        violations.push(
          `${status} to ${JSON.stringify(request)}: ${JSON.stringify(answer.slice(0, 600))}`,
        );
      }
      if (spool.child.exitCode !== null || spool.child.signalCode !== null)
        violations.push(`the server died after ${JSON.stringify(request)}`);
    }
  };
  let ticker: NodeJS.Timeout | undefined;
  try {
    ticker = setInterval(
      () => log(`fuzz: ${figures.generated + figures.mutated + figures.garbage} requests`),
      30_000,
    );
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    clearInterval(ticker);
  }

  // What was stored is unchanged, and a normal upload works.
  for (const [name, hash] of kept) {
    const res = await download(spool.url, KEPT, name);
    if (res.status !== 200 || md5(res.body) !== hash)
      violations.push(`${KEPT}/${name} changed: ${res.status}, MD5 ${md5(res.body)}, not ${hash}`);
  }
  const data = random.bytes(700_000);
  const object = await upload(data, `gs://${KEPT}/after-fuzz.bin`, {
    endpoint: spool.url,
    stateStore: null,
    chunkSize: 256 * 1024,
  }).catch((error: Error) => error);
  if (object instanceof Error)
    violations.push(`a normal upload after the fuzzing failed: ${object.message}`);
  violations.push(...loggedErrors(spool.errors(), 'server'));
  spool = await spool.restart();
  const audit = await auditDataDir(spool.dataDir);
  violations.push(...auditProblems(audit));
  const health = await send({ method: 'GET', url: `${spool.url}/healthz` });
  if (health.status !== 200) violations.push(`after a restart, /healthz answers ${health.status}`);
  await spool.stop();
  return {
    figures: {
      inputs: figures.generated + figures.mutated + figures.garbage,
      ...figures,
      orphans: audit.orphans.length,
      ...Object.fromEntries([...statuses].sort().map(([s, n]) => [`status ${s}`, n])),
    },
    violations,
  };
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('base64');

/**
 * Writes raw bytes on a new connection and returns what comes back before the server closes.
 * A request that announced more body than it carries gets no answer while the server waits for
 * the rest: after 150 ms of silence the sending side is ended (which a server may answer, or
 * not), and after 10 s in all the connection is given up.
 */
function exchangeRaw(base: string, raw: Buffer): Promise<string> {
  const target = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(target.port), target.hostname);
    const parts: Buffer[] = [];
    const timers = [
      setTimeout(() => socket.end(), 150),
      setTimeout(() => socket.destroy(), 10_000),
    ];
    socket.on('data', (c: Buffer) => parts.push(c));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      for (const timer of timers) clearTimeout(timer);
      resolve(Buffer.concat(parts).toString('latin1'));
    });
    socket.on('connect', () => socket.write(raw));
  });
}

const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'];
const ODD_METHODS = ['TRACE', 'PROPFIND', 'get', 'FOO', 'CONNECT'];

/** Path shapes of every endpoint, with {b}, {o} and {id} to fill in. */
const PATHS = [
  '/upload/storage/v1/b/{b}/o',
  '/resumable/upload/storage/v1/b/{b}/o',
  '/storage/v1/b',
  '/storage/v1/b/{b}',
  '/storage/v1/b/{b}/o',
  '/storage/v1/b/{b}/o/{o}',
  '/storage/v1/b/{b}/o/{o}/compose',
  '/download/storage/v1/b/{b}/o/{o}',
  '/b/{b}/o',
  '/b/{b}/o/{o}',
  '/{b}/{o}',
  '/{b}',
  '/',
  '/healthz',
  '/readyz',
  '/metrics',
  '/retry_test',
  '/retry_tests',
  '/retry_test/{id}',
];

function text(random: Random, max: number): string {
  const alphabets = [
    'abcdefghijklmnopqrstuvwxyz0123456789',
    'aZ09-_.~/ %+&=?#',
    '\u00e9\u20ac\u{1F600}\u0000\u0085\r\n\t"\'\\<>{}[]',
  ];
  let out = '';
  const length = random.int(0, max);
  for (let i = 0; i < length; i++) {
    const alphabet = [...random.pick(alphabets)];
    out += random.pick(alphabet);
  }
  return out;
}

/** A path segment: plain, percent-encoded, or broken encoding. */
function segment(random: Random, plain: readonly string[]): string {
  const roll = random.next();
  if (roll < 0.5) return encodeURIComponent(random.pick(plain));
  if (roll < 0.8) return encodeURIComponent(text(random, 40));
  return random.pick([
    '%',
    '%ZZ',
    '%FF',
    '%C3%28',
    '..',
    '%2E%2E',
    'a%2Fb',
    '.',
    `x${'y'.repeat(random.int(60, 2000))}`,
  ]);
}

function number(random: Random): string {
  return random.pick([
    String(random.int(0, 3 * 262144)),
    String(random.int(0, 10) * 262144),
    String(random.int(0, 10) * 262144 - 1),
    '-1',
    '99999999999999999999',
    '9007199254740993',
    '1e3',
    '0x10',
    ' 5',
    '',
    text(random, 5),
  ]);
}

function contentRange(random: Random): string {
  const a = number(random);
  const b = number(random);
  const total = random.chance(0.5) ? '*' : number(random);
  return random.pick([
    `bytes ${a}-${b}/${total}`,
    `bytes */${total}`,
    `bytes ${a}-*/${total}`,
    `bytes=${a}-${b}/${total}`,
    `bytes ${a}-${b}`,
    `items ${a}-${b}/${total}`,
    text(random, 30),
  ]);
}

function queryString(random: Random, sessions: readonly string[]): string {
  const params: [string, () => string][] = [
    [
      'uploadType',
      () => random.pick(['resumable', 'media', 'multipart', 'RESUMABLE', text(random, 8)]),
    ],
    ['name', () => random.pick(['o', 'a/b', `fuzz/${random.int(0, 20)}`, text(random, 50)])],
    [
      'upload_id',
      () =>
        sessions.length > 0 && random.chance(0.7)
          ? random.pick(sessions)
          : random.pick([text(random, 43), 'A'.repeat(43), '']),
    ],
    ['alt', () => random.pick(['media', 'json', text(random, 5)])],
    ['generation', () => number(random)],
    ['ifGenerationMatch', () => number(random)],
    ['ifGenerationNotMatch', () => number(random)],
    ['ifMetagenerationMatch', () => number(random)],
    ['prefix', () => text(random, 20)],
    ['delimiter', () => random.pick(['/', '', text(random, 3)])],
    ['maxResults', () => number(random)],
    [
      'pageToken',
      () => random.pick([Buffer.from(text(random, 20)).toString('base64'), text(random, 20)]),
    ],
    ['startOffset', () => text(random, 10)],
    ['endOffset', () => text(random, 10)],
    ['includeTrailingDelimiter', () => random.pick(['true', 'false', text(random, 4)])],
    ['projection', () => random.pick(['full', 'noAcl', text(random, 4)])],
    ['X-Goog-Algorithm', () => random.pick(['GOOG4-RSA-SHA256', text(random, 10)])],
    ['X-Goog-Signature', () => text(random, 64)],
    ['X-Goog-Date', () => random.pick(['20240101T000000Z', text(random, 16)])],
    ['X-Goog-Expires', () => number(random)],
    ['X-Goog-Credential', () => text(random, 40)],
    ['X-Goog-SignedHeaders', () => random.pick(['host', text(random, 10)])],
    [text(random, 8), () => text(random, 8)],
  ];
  const parts: string[] = [];
  const n = random.int(0, 5);
  for (let i = 0; i < n; i++) {
    const [key, value] = random.pick(params);
    const v = value();
    parts.push(
      random.chance(0.9)
        ? `${encodeURIComponent(key)}=${encodeURIComponent(v)}`
        : `${key}=${v}`.replace(/[\s#]/g, ''),
    );
  }
  return parts.length > 0 || random.chance(0.2) ? `?${parts.join('&')}` : '';
}

function metadataJson(random: Random): string {
  const value = (): unknown =>
    random.pick<() => unknown>([
      () => text(random, 20),
      () => random.int(-5, 1e6),
      () => null,
      () => [],
      () => ({ [text(random, 5)]: text(random, 5) }),
      () => true,
    ])();
  const fields = [
    'name',
    'contentType',
    'cacheControl',
    'contentDisposition',
    'contentEncoding',
    'contentLanguage',
    'customTime',
    'metadata',
    'crc32c',
    'md5Hash',
    'size',
    'sourceObjects',
    'destination',
    'instructions',
    'transport',
    text(random, 6),
  ];
  const body: Record<string, unknown> = {};
  for (let i = random.int(0, 4); i > 0; i--) body[random.pick(fields)] = value();
  if (random.chance(0.2))
    body['sourceObjects'] = [{ name: `fuzz/${random.int(0, 20)}`, generation: number(random) }];
  if (random.chance(0.2))
    body['instructions'] = {
      [random.pick(['storage.objects.insert', 'storage.objects.get', text(random, 10)])]: [
        random.pick([
          'return-503',
          'return-reset-connection',
          'stall-for-1s-after-1K',
          text(random, 12),
        ]),
      ],
    };
  return JSON.stringify(body);
}

function body(random: Random): Buffer {
  switch (random.int(0, 5)) {
    case 0:
      return Buffer.alloc(0);
    case 1:
      return random.bytes(random.int(1, 4096));
    case 2:
      return Buffer.alloc(random.pick([262144, 262143, 262145, 524288]), random.int(0, 255));
    case 3:
      return Buffer.from(metadataJson(random));
    case 4: {
      const boundary = random.pick(['b', 'xyz', text(random, 10)]);
      return Buffer.from(
        `--${boundary}\r\nContent-Type: application/json\r\n\r\n${metadataJson(random)}\r\n--${boundary}\r\nContent-Type: ${text(random, 10)}\r\n\r\n${text(random, 100)}\r\n--${boundary}${random.pick(['--', '', '\r\n'])}`,
      );
    }
    default:
      return Buffer.from(text(random, 200));
  }
}

/** A request in the shape of the API, with random parts: framed correctly, so it deserves an answer. */
function generate(random: Random, sessions: readonly string[]): Buffer {
  const method = random.chance(0.95) ? random.pick(METHODS) : random.pick(ODD_METHODS);
  const path = random
    .pick(PATHS)
    .replace('{b}', () =>
      segment(random, [BUCKET, BUCKET, 'no-such-bucket', 'zz-other', 'UPPER', 'goog', 'a']),
    )
    .replace('{o}', () => segment(random, [`fuzz/${random.int(0, 20)}`, 'o', 'a/b/c']))
    .replace('{id}', () => segment(random, ['0123456789abcdef', text(random, 10)]));
  const headers: [string, string][] = [
    ['Host', random.chance(0.95) ? 'localhost' : text(random, 20).replace(/[\r\n]/g, '')],
  ];
  const optional: [string, () => string][] = [
    ['Content-Range', () => contentRange(random)],
    [
      'Content-Type',
      () =>
        random.pick([
          'application/json',
          'application/json; charset=UTF-8',
          'multipart/related; boundary=b',
          'multipart/related',
          'application/octet-stream',
          text(random, 20),
        ]),
    ],
    [
      'X-Goog-Hash',
      () =>
        random.pick([
          `crc32c=${Buffer.from(random.bytes(4)).toString('base64')}`,
          `md5=${Buffer.from(random.bytes(16)).toString('base64')}`,
          text(random, 30),
        ]),
    ],
    ['X-Upload-Content-Length', () => number(random)],
    ['X-Upload-Content-Type', () => text(random, 20)],
    ['X-Goog-Resumable', () => random.pick(['start', text(random, 5)])],
    ['X-Goog-Upload-Protocol', () => random.pick(['resumable', text(random, 5)])],
    [
      'X-Goog-Upload-Command',
      () =>
        random.pick([
          'start',
          'upload',
          'finalize',
          'upload, finalize',
          'query',
          'cancel',
          text(random, 8),
        ]),
    ],
    ['X-Goog-Upload-Offset', () => number(random)],
    ['X-Goog-Upload-Header-Content-Length', () => number(random)],
    [
      'Range',
      () =>
        random.pick([
          `bytes=${number(random)}-${number(random)}`,
          `bytes=-${number(random)}`,
          `bytes=${number(random)}-`,
          text(random, 20),
        ]),
    ],
    ['If-Match', () => text(random, 20)],
    ['If-None-Match', () => random.pick(['*', text(random, 20)])],
    ['Origin', () => random.pick(['https://app.example', text(random, 20)])],
    ['Access-Control-Request-Method', () => random.pick(METHODS)],
    ['Authorization', () => `Bearer ${text(random, 30)}`],
    ['X-Goog-Meta-Fuzz', () => text(random, 40)],
    ['Content-MD5', () => text(random, 24)],
    ['X-Goog-If-Generation-Match', () => number(random)],
    ['X-GUploader-No-308', () => random.pick(['yes', 'no'])],
    ['X-Goog-Content-SHA256', () => random.pick(['UNSIGNED-PAYLOAD', text(random, 64)])],
  ];
  for (let i = random.int(0, 6); i > 0; i--) {
    const [name, value] = random.pick(optional);
    headers.push([name, value().replace(/[\r\n]/g, ' ')]);
  }
  const content = body(random);
  const chunked = content.length > 0 && random.chance(0.15);
  if (chunked) headers.push(['Transfer-Encoding', 'chunked']);
  else headers.push(['Content-Length', String(content.length)]);
  headers.push(['Connection', 'close']);
  const head = `${method} ${path}${queryString(random, sessions)} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  const payload = chunked
    ? Buffer.concat([
        Buffer.from(`${content.length.toString(16)}\r\n`),
        content,
        Buffer.from('\r\n0\r\n\r\n'),
      ])
    : content;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

/** The same bytes, damaged: flipped, dropped, repeated or inserted bytes, numbers nudged, cut short. */
function mutate(random: Random, raw: Buffer): Buffer {
  let out = Buffer.from(raw);
  for (let i = random.int(1, 3); i > 0; i--) {
    const at = random.int(0, Math.max(0, out.length - 1));
    switch (random.int(0, 5)) {
      case 0:
        if (out.length > 0) out[at] = random.int(0, 255);
        break;
      case 1:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + random.int(1, 20))]);
        break;
      case 2:
        out = Buffer.concat([
          out.subarray(0, at),
          out.subarray(at, at + random.int(1, 20)),
          out.subarray(at),
        ]);
        break;
      case 3:
        out = Buffer.concat([
          out.subarray(0, at),
          random.bytes(random.int(1, 20)),
          out.subarray(at),
        ]);
        break;
      case 4: {
        // Nudge a number in the head: lengths and ranges off by one, or far off.
        const head = out.toString('latin1');
        const numbers = [...head.slice(0, head.indexOf('\r\n\r\n') + 1).matchAll(/\d+/g)];
        if (numbers.length === 0) break;
        const m = random.pick(numbers);
        const value = BigInt(m[0]);
        const next = random.pick([value + 1n, value - 1n, value * 10n, 0n, 2n ** 63n]);
        out = Buffer.concat([
          out.subarray(0, m.index),
          Buffer.from(String(next)),
          out.subarray(m.index + m[0].length),
        ]);
        break;
      }
      default:
        out = out.subarray(0, at);
    }
  }
  return out;
}
