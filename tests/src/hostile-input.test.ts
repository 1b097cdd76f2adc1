// Malformed, hostile and oversized input: each gets a 4xx with a message a person can act on,
// nothing outside the data directory is touched, nothing stored changes, the server keeps serving.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CHUNK,
  download,
  initiate,
  initiateRaw,
  putChunk,
  query,
  randomData,
  storedBytes,
} from './harness/gcs.js';
import {
  connectionEnding,
  messageOf,
  openResponse,
  send,
  sendRaw,
  type RawResponse,
} from './harness/http.js';
import { scrape } from './harness/metrics.js';
import { SpoolProcess } from './harness/spool-process.js';

const bucket = 'test-bucket';
let spool: SpoolProcess;
let base: string;
let outside: string;
let sentinel: Buffer;
const kept = randomData(100_000);

/** Every file under a directory with its content hash. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else
        out.set(
          relative(dir, p),
          createHash('sha256')
            .update(await readFile(p))
            .digest('hex'),
        );
    }
  };
  await walk(dir);
  return out;
}

function assertClear4xx(
  res: RawResponse,
  status: number | RegExp,
  message: RegExp,
  label: string,
): void {
  if (typeof status === 'number') assert.equal(res.status, status, `${label}: ${res.text()}`);
  else assert.match(String(res.status), status, `${label}: ${res.text()}`);
  const text = messageOf(res);
  assert.match(text, message, label);
}

before(async () => {
  outside = await mkdtemp(join(tmpdir(), 'spool-outside-'));
  sentinel = randomData(64);
  await writeFile(join(outside, 'passwd'), sentinel);
  spool = await SpoolProcess.start();
  base = spool.url;
  await putChunk(await initiate(base, bucket, 'kept.bin'), undefined, kept);
});

after(async () => {
  // A normal upload still works after everything below.
  const data = randomData(CHUNK + 1);
  const done = await putChunk(await initiate(base, bucket, 'after-hostile.bin'), undefined, data);
  assert.equal(done.status, 200);
  assert.deepEqual(
    (await download(base, bucket, 'kept.bin')).body,
    kept,
    'stored data is unchanged',
  );
  assert.deepEqual(
    await readFile(join(outside, 'passwd')),
    sentinel,
    'nothing outside the data directory was touched',
  );
  assert.deepEqual(await readdir(outside), ['passwd']);
  await spool.stop();
  await rm(outside, { recursive: true, force: true });
});

describe('object names', () => {
  const traversal = `../../../../..${outside}/passwd`;
  const bad: [string, string, RegExp][] = [
    ['dot-dot', '..', /"\." or "\.\." as a path segment/],
    ['traversal', traversal, /"\." or "\.\." as a path segment/],
    ['nested dot-dot', 'a/../../b', /"\." or "\.\." as a path segment/],
    ['NUL', 'a\u0000b', /control characters/],
    ['line feed', 'a\nb', /control characters/],
    ['carriage return', 'a\rb', /control characters/],
    ['C1 control', 'a\u0085b', /control characters/],
    ['too long', 'x'.repeat(1025), /at most 1024 bytes of UTF-8; this one has 1025/],
    ['too long in UTF-8', '€'.repeat(342), /this one has 1026/],
    ['empty', '', /must not be empty|No object name/],
  ];
  for (const [label, name, message] of bad) {
    it(`refuses ${label} at initiation (query and JSON body)`, async () => {
      assertClear4xx(await initiateRaw(base, bucket, name), 400, message, `${label} (query)`);
      if (name !== '')
        assertClear4xx(
          await initiateRaw(base, bucket, undefined, { body: { name } }),
          400,
          message,
          `${label} (body)`,
        );
    });
  }

  it('refuses invalid UTF-8 and broken percent-encoding instead of guessing', async () => {
    for (const raw of ['%FF', '%C3%28', '%E2%82', '%', '%ZZ']) {
      const res = await send({
        method: 'POST',
        url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=a${raw}b`,
      });
      assertClear4xx(res, 400, /not valid percent-encoded UTF-8/, raw);
      const get = await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o/a${raw}b` });
      assertClear4xx(get, 400, /not valid percent-encoded UTF-8/, `GET ${raw}`);
    }
  });

  it('refuses traversal in object paths of reads and deletes', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await send({
        method,
        url: `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(traversal)}`,
      });
      assertClear4xx(res, 400, /path segment/, method);
      const plain = await send({
        method,
        url: `${base}/storage/v1/b/${bucket}/o/..%2F..%2Fpasswd?alt=media`,
      });
      assertClear4xx(plain, 400, /path segment/, `${method} encoded`);
    }
  });

  it('refuses invalid bucket names, and answers 404 for unknown buckets', async () => {
    // WHATWG URLs resolve ".." (even encoded), so that one goes over a raw socket.
    const dotDot = await sendRaw(
      base,
      'POST /upload/storage/v1/b/%2E%2E/o?uploadType=resumable&name=x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
      500,
    );
    assert.match(dotDot, /^HTTP\/1.1 400/);
    assert.match(dotDot, /Invalid bucket name/);
    for (const name of [
      'a',
      'UPPER',
      'has space',
      `x${'y'.repeat(70)}`,
      'goog-bucket',
      '192.168.0.1',
    ]) {
      const res = await initiateRaw(base, encodeURIComponent(name), 'x');
      assertClear4xx(res, 400, /Invalid bucket name|Bucket names/, name);
    }
    assertClear4xx(
      await initiateRaw(base, 'no-such-bucket', 'x'),
      404,
      /bucket does not exist/,
      'unknown',
    );
    assertClear4xx(
      await send({ method: 'GET', url: `${base}/storage/v1/b/no-such-bucket/o` }),
      404,
      /bucket does not exist/,
      'list',
    );
  });

  it('the data directory never holds a file named after user input', async () => {
    const files = [...(await snapshot(spool.dataDir)).keys()];
    for (const file of files) {
      assert.match(
        file,
        /^(spool-data\.json|sessions\/[0-9a-f]{64}\.json|blobs\/[0-9a-f]{32}|buckets\/test-bucket\/(bucket\.json|objects\/[0-9a-f]{64}\.json))$/,
        file,
      );
    }
  });
});

describe('session requests', () => {
  it('overflowing Content-Range numbers are refused before any arithmetic', async () => {
    const uri = await initiate(base, bucket, 'overflow.bin');
    for (const range of [
      'bytes 0-99999999999999999999/*',
      'bytes */99999999999999999999',
      'bytes 0-1/9007199254740993',
      'bytes 0-*/6000000000000',
    ]) {
      const res = await putChunk(uri, range, Buffer.alloc(2));
      assertClear4xx(
        res,
        400,
        /Failed to parse Content-Range header\.|exceeds the maximum object size/,
        range,
      );
    }
    assert.equal((await query(uri)).headers.range, undefined);
  });

  it('refuses a body with a Content-Length different from its range, storing nothing', async () => {
    const uri = await initiate(base, bucket, 'length.bin');
    const res = await sendRaw(
      uri,
      `PUT ${new URL(uri).pathname}${new URL(uri).search} HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-${CHUNK - 1}/*\r\nContent-Length: 10\r\n\r\n0123456789`,
    );
    assert.match(res, /^HTTP\/1.1 400/);
    assert.match(res, /body contained 10 byte\(s\), but the Content-Range header announced 262144/);
    assert.equal((await query(uri)).headers.range, undefined);
  });

  it('refuses a malformed X-Goog-Hash before taking any byte', async () => {
    const uri = await initiate(base, bucket, 'badhash.bin');
    for (const hash of [
      'crc32c=!!!!',
      'crc32c=AAAA',
      'md5=short',
      'crc32c=AAAAAA==,crc32c=AQAAAA==',
      'garbage',
    ]) {
      const res = await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, randomData(CHUNK), {
        'x-goog-hash': hash,
      });
      assertClear4xx(res, 400, /Invalid X-Goog-Hash header/, hash);
    }
    assert.equal(storedBytes(await query(uri)), 0);
  });

  it('refuses invalid initiation headers and bodies', async () => {
    const cases: [string, Parameters<typeof initiateRaw>[3], RegExp][] = [
      [
        'size not a number',
        { headers: { 'x-upload-content-length': 'ten' } },
        /Invalid X-Upload-Content-Length/,
      ],
      [
        'size over 5 TiB',
        { headers: { 'x-upload-content-length': 6_000_000_000_000 } },
        /exceeds the maximum object size/,
      ],
      [
        'precondition not a number',
        { query: '&ifGenerationMatch=abc' },
        /Invalid value for ifGenerationMatch/,
      ],
      [
        'precondition over int64',
        { query: '&ifGenerationMatch=99999999999999999999' },
        /Invalid value for ifGenerationMatch/,
      ],
      ['JSON array body', { body: [1, 2] }, /must be a JSON object/],
      ['wrong field type', { body: { contentType: 5 } }, /contentType: it must be a string/],
      ['bad crc32c', { body: { crc32c: 'abc' } }, /crc32c: it must be base64 of 4 bytes/],
      [
        'metadata not strings',
        { body: { metadata: { a: { b: 1 } } } },
        /metadata\.a: it must be a string/,
      ],
    ];
    for (const [label, options, message] of cases) {
      assertClear4xx(await initiateRaw(base, bucket, 'x.bin', options), 400, message, label);
    }
    const malformed = await send({
      method: 'POST',
      url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=x`,
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    assertClear4xx(malformed, 400, /not valid JSON/, 'malformed JSON');
    const huge = await send({
      method: 'POST',
      url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=x`,
      headers: { 'content-type': 'application/json' },
      body: `{"metadata":{"a":"${'x'.repeat(100_000)}"}}`,
    });
    assertClear4xx(huge, 400, /limited to 65536 bytes/, 'oversized body');
    const media = await send({
      method: 'POST',
      url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=x`,
      headers: { 'content-type': 'image/png' },
      body: 'PNG',
    });
    assertClear4xx(media, 400, /JSON metadata/, 'non-JSON body');
  });

  it('unknown and guessed sessions get 404 without revealing anything', async () => {
    const uri = await initiate(base, bucket, 'guess.bin');
    const real = new URL(uri).searchParams.get('upload_id')!;
    const guesses = [
      real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A'),
      real.slice(0, 20),
      `${real}x`,
      '',
      'null',
    ];
    for (const guess of guesses) {
      const u = new URL(uri);
      u.searchParams.set('upload_id', guess);
      const res = await putChunk(u.toString(), `bytes 0-${CHUNK - 1}/*`, randomData(CHUNK));
      assertClear4xx(res, 404, /No such upload session/, guess);
    }
    assert.equal(storedBytes(await query(uri)), 0, 'the real session is untouched');
    const otherBucket = uri.replace(`/b/${bucket}/`, '/b/other-bucket/');
    assertClear4xx(
      await query(otherBucket),
      404,
      /No such upload session/,
      'session under another bucket',
    );
  });
});

describe('HTTP-level abuse', () => {
  it('oversized headers get 431, garbage gets 400, and the server keeps serving', async () => {
    const big = await sendRaw(
      base,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(big, /^HTTP\/1.1 431/);
    assert.match(big, /larger than 16384 bytes \(spool serve --max-header-size\)/);
    const garbage = await sendRaw(base, 'THIS IS NOT HTTP\r\n\r\n');
    assert.match(garbage, /^HTTP\/1.1 400/);
    assert.match(garbage, /not a valid HTTP\/1.1 request/);
    const connectMethod = await sendRaw(
      base,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    assert.match(connectMethod, /^HTTP\/1.1 405/);
    assert.match(connectMethod, /not a proxy/);
    const binary = await sendRaw(base, randomData(4096));
    assert.match(binary, /^HTTP\/1.1 400|^$/);
    assert.equal((await send({ method: 'GET', url: `${base}/healthz` })).status, 200);
  });

  it('a body cut short by the end of its connection gets no answer (no 400: a client would give up) and keeps its aligned prefix', async () => {
    const uri = await initiate(base, bucket, 'half-closed.bin');
    const target = new URL(uri);
    const head = `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-${4 * CHUNK - 1}/*\r\nContent-Length: ${4 * CHUNK}\r\n\r\n`;
    const { received } = await connectionEnding(
      base,
      Buffer.concat([Buffer.from(head), randomData(CHUNK + 1000)]),
      { halfClose: true },
    );
    assert.equal(received.toString(), '', 'no answer to a request that did not arrive whole');
    assert.equal(storedBytes(await query(uri)), CHUNK);
  });

  it('a download abandoned half-way is no error in the server log', async () => {
    const big = randomData(8 * 1024 * 1024);
    assert.equal(
      (await putChunk(await initiate(base, bucket, 'abandoned.bin'), undefined, big)).status,
      200,
    );
    const res = await openResponse({
      method: 'GET',
      url: `${base}/storage/v1/b/${bucket}/o/abandoned.bin?alt=media`,
    });
    const downloads = async () =>
      (await scrape(base)).get(
        'spool_http_requests_total{method="GET",route="object",status="200"}',
      );
    const before = await downloads();
    while (res.received() === 0) await new Promise((r) => setTimeout(r, 10));
    res.abort();
    assert.equal(await res.ended, 'cut');
    // The server counts the request once it has given up on it.
    while ((await downloads()) === before) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(spool.errors(), []);
  });

  it('unknown paths and methods get 404 and 405 with a pointer to what exists', async () => {
    assertClear4xx(
      await send({ method: 'GET', url: `${base}/storage/v2/b` }),
      404,
      /does not serve GET \/storage\/v2\/b/,
      'path',
    );
    const xml = await send({ method: 'GET', url: `${base}/no-such-bucket/x` });
    assert.equal(xml.status, 404);
    assert.match(xml.text(), /<Code>NoSuchBucket<\/Code>/);
    assertClear4xx(
      await send({ method: 'PATCH', url: `${base}/storage/v1/b/${bucket}/o` }),
      405,
      /use GET/,
      'method',
    );
    assertClear4xx(
      await send({
        method: 'POST',
        url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=weird&name=x`,
      }),
      400,
      /Unsupported uploadType/,
      'uploadType',
    );
  });

  it('listing rejects malformed parameters and page tokens', async () => {
    assertClear4xx(
      await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o?maxResults=abc` }),
      400,
      /Invalid value for maxResults/,
      'maxResults',
    );
    assertClear4xx(
      await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o?pageToken=%25%25` }),
      400,
      /Invalid pageToken/,
      'pageToken',
    );
    assertClear4xx(
      await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o/kept.bin?generation=x` }),
      400,
      /Invalid value for generation/,
      'generation',
    );
  });

  it('a download Range past the end is a 416 that says the size', async () => {
    const res = await send({
      method: 'GET',
      url: `${base}/storage/v1/b/${bucket}/o/kept.bin?alt=media`,
      headers: { range: 'bytes=200000-' },
    });
    assertClear4xx(res, 416, /the object has 100000 bytes/, 'range');
    assert.equal(res.headers['content-range'], 'bytes */100000');
  });
});

describe('stored data', () => {
  it('none of the above changed a byte of what was stored', async () => {
    const info = await stat(join(spool.dataDir, 'spool-data.json'));
    assert.ok(info.isFile());
    assert.deepEqual((await download(base, bucket, 'kept.bin')).body, kept);
  });
});
