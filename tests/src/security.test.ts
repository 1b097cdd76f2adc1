// Who gets in: bearer tokens (scoped to buckets, expiring), V4 signed URLs, session URIs as
// capabilities; and who is refused, with a clear 401/403/404 that reaches no stored data.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Storage } from '@google-cloud/storage';
import { CHUNK, query, randomData } from './harness/gcs.js';
import { messageOf, send, type RawResponse } from './harness/http.js';
import { SpoolProcess, repoRoot } from './harness/spool-process.js';

const full = 'full-access-token-0123456789abcdef';
const scoped = 'scoped-token-0123456789abcdef0000';
const expired = 'expired-token-0123456789abcdef000';
const keyFile = `${repoRoot}/tests/fixtures/conformance/test_service_account.not-a-test.json`;
let spool: SpoolProcess;
let base: string;
let dir: string;
const kept = randomData(5000);

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const uploadUrl = (bucket: string, q: string) => `${base}/upload/storage/v1/b/${bucket}/o?${q}`;

function refused(res: RawResponse, status: number, message: RegExp, label: string): void {
  assert.equal(res.status, status, `${label}: ${res.text()}`);
  assert.match(messageOf(res), message, label);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-security-'));
  await writeFile(
    join(dir, 'tokens'),
    `# test tokens\n${full}\n${scoped} test-bucket\n${expired} * until=2020-01-01T00:00:00Z\n`,
  );
  spool = await SpoolProcess.start({
    buckets: ['test-bucket', 'other-bucket'],
    args: [
      '--token-file',
      join(dir, 'tokens'),
      '--signing-key',
      keyFile,
      '--cors-origin',
      'https://app.example',
      '--log-level',
      'info',
    ],
  });
  base = spool.url;
  const put = await send({
    method: 'POST',
    url: uploadUrl('other-bucket', 'uploadType=media&name=kept.bin'),
    headers: auth(full),
    body: kept,
  });
  assert.equal(put.status, 200, put.text());
});

after(async () => {
  // Nothing below reached stored data: the one object is intact and alone.
  const list = await send({
    method: 'GET',
    url: `${base}/storage/v1/b/other-bucket/o`,
    headers: auth(full),
  });
  assert.deepEqual(
    list.json<{ items: { name: string }[] }>().items.map((i) => i.name),
    ['kept.bin'],
  );
  const back = await send({
    method: 'GET',
    url: `${base}/storage/v1/b/other-bucket/o/kept.bin?alt=media`,
    headers: auth(full),
  });
  assert.deepEqual(back.body, kept);
  await spool.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('bearer tokens', () => {
  const targets = () => [
    { method: 'POST', url: uploadUrl('other-bucket', 'uploadType=resumable&name=x.bin') },
    {
      method: 'POST',
      url: uploadUrl('other-bucket', 'uploadType=media&name=kept.bin'),
      body: 'overwrite',
    },
    { method: 'GET', url: `${base}/storage/v1/b/other-bucket/o/kept.bin?alt=media` },
    { method: 'GET', url: `${base}/storage/v1/b/other-bucket/o` },
    { method: 'DELETE', url: `${base}/storage/v1/b/other-bucket/o/kept.bin` },
    {
      method: 'PATCH',
      url: `${base}/storage/v1/b/other-bucket/o/kept.bin`,
      body: '{"contentType":"x/y"}',
    },
    { method: 'GET', url: `${base}/storage/v1/b` },
    { method: 'GET', url: `${base}/other-bucket/kept.bin` },
  ];

  it('a missing token is a 401 that says how to authenticate', async () => {
    for (const target of targets()) {
      const res = await send(target);
      refused(
        res,
        401,
        /requires a bearer token: send Authorization: Bearer TOKEN/,
        `${target.method} ${target.url}`,
      );
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="spool"');
    }
  });

  it('malformed, unknown, tampered, truncated and expired tokens are 401s that say which', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ authorization: 'Basic dXNlcjpwYXNz' }, /must read "Bearer TOKEN"/],
      [{ authorization: `Bearer ${full} ${full}` }, /must read "Bearer TOKEN"/],
      [auth('not-a-real-token-at-all-000000'), /Invalid Credentials/],
      [auth(`${full.slice(0, -1)}X`), /Invalid Credentials/],
      [auth(full.slice(0, 20)), /Invalid Credentials/],
      [auth(expired), /expired at 2020-01-01T00:00:00.000Z/],
    ];
    for (const target of targets()) {
      for (const [headers, message] of cases)
        refused(
          await send({ ...target, headers }),
          401,
          message,
          `${target.method} ${headers.authorization}`,
        );
    }
  });

  it('a token scoped to one bucket is refused on another (403) and sees only its own', async () => {
    for (const target of targets().filter((t) => !t.url.endsWith('/storage/v1/b'))) {
      refused(
        await send({ ...target, headers: auth(scoped) }),
        403,
        /may not use bucket "other-bucket"/,
        `${target.method} ${target.url}`,
      );
    }
    const ok = await send({
      method: 'POST',
      url: uploadUrl('test-bucket', 'uploadType=media&name=mine.bin'),
      headers: auth(scoped),
      body: 'mine',
    });
    assert.equal(ok.status, 200);
    const buckets = await send({
      method: 'GET',
      url: `${base}/storage/v1/b`,
      headers: auth(scoped),
    });
    assert.deepEqual(
      buckets.json<{ items: { name: string }[] }>().items.map((b) => b.name),
      ['test-bucket'],
    );
    refused(
      await send({
        method: 'POST',
        url: `${base}/storage/v1/b`,
        headers: auth(scoped),
        body: '{"name":"new-bucket"}',
      }),
      403,
      /may not create bucket "new-bucket"/,
      'create',
    );
  });

  it('a valid token gets in', async () => {
    const res = await send({
      method: 'GET',
      url: `${base}/storage/v1/b/other-bucket/o/kept.bin`,
      headers: auth(full),
    });
    assert.equal(res.status, 200);
    assert.equal(res.json()['size'], '5000');
  });
});

describe('session URIs are capabilities', () => {
  it('requests to a session URI need no token; guessed and truncated IDs get 404', async () => {
    const start = await send({
      method: 'POST',
      url: uploadUrl('test-bucket', 'uploadType=resumable&name=session.bin'),
      headers: auth(scoped),
    });
    assert.equal(start.status, 200);
    const session = start.headers.location!;
    const data = randomData(CHUNK + 10);
    assert.equal(
      (
        await send({
          method: 'PUT',
          url: session,
          headers: { 'content-range': `bytes 0-${CHUNK - 1}/*` },
          body: data.subarray(0, CHUNK),
        })
      ).status,
      308,
    );
    const id = new URL(session).searchParams.get('upload_id')!;
    for (const guess of [
      id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A'),
      id.slice(0, 30),
      id.toLowerCase() === id ? id.toUpperCase() : id.toLowerCase(),
    ]) {
      const u = new URL(session);
      u.searchParams.set('upload_id', guess);
      refused(await query(u.toString()), 404, /No such upload session/, guess);
    }
    const done = await send({
      method: 'PUT',
      url: session,
      headers: { 'content-range': `bytes ${CHUNK}-${data.length - 1}/${data.length}` },
      body: data.subarray(CHUNK),
    });
    assert.equal(done.status, 200);
    assert.ok(!spool.stderr.includes(id), 'the full session ID never appears in the logs');
    assert.match(spool.stderr, new RegExp(`"session":"${id.slice(0, 6)}…"`));
  });
});

describe('signed URLs', () => {
  let storage: Storage;
  before(async () => {
    const account = JSON.parse(await readFile(keyFile, 'utf8')) as {
      client_email: string;
      private_key: string;
    };
    storage = new Storage({ apiEndpoint: base, projectId: 'spool-test', credentials: account });
  });

  it('a signed URL lets its request in without a token; tampered and expired ones are refused', async () => {
    const file = storage.bucket('other-bucket').file('kept.bin');
    const [read] = await file.getSignedUrl({
      version: 'v4',
      action: 'read',
      expires: Date.now() + 60_000,
    });
    const ok = await send({ method: 'GET', url: read });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, kept);
    const tampered = await send({ method: 'GET', url: read.replace('kept.bin', 'kept.bim') });
    assert.equal(tampered.status, 403);
    assert.match(tampered.text(), /SignatureDoesNotMatch/);
    const asDelete = await send({ method: 'DELETE', url: read });
    assert.equal(asDelete.status, 403, 'a URL signed for GET does not allow DELETE');
    const [soon] = await file.getSignedUrl({
      version: 'v4',
      action: 'read',
      expires: Date.now() + 1000,
    });
    await new Promise((r) => setTimeout(r, 1100));
    const late = await send({ method: 'GET', url: soon });
    assert.equal(late.status, 400);
    assert.match(late.text(), /ExpiredToken/);
  });

  it('a signed resumable URL starts a session whose requests need nothing else', async () => {
    const [url] = await storage
      .bucket('test-bucket')
      .file('signed-upload.bin')
      .getSignedUrl({ version: 'v4', action: 'resumable', expires: Date.now() + 60_000 });
    const start = await send({ method: 'POST', url, headers: { 'x-goog-resumable': 'start' } });
    assert.equal(start.status, 201);
    const done = await send({ method: 'PUT', url: start.headers.location!, body: 'signed' });
    assert.equal(done.status, 200);
  });
});

describe('open endpoints and metrics', () => {
  it('/healthz and /readyz need no token; /metrics needs a token for every bucket', async () => {
    assert.equal((await send({ method: 'GET', url: `${base}/healthz` })).status, 200);
    const ready = await send({ method: 'GET', url: `${base}/readyz` });
    assert.equal(ready.status, 200);
    assert.equal(ready.text(), 'ready\n');
    refused(
      await send({ method: 'GET', url: `${base}/metrics` }),
      401,
      /bearer token/,
      'metrics without token',
    );
    refused(
      await send({ method: 'GET', url: `${base}/metrics`, headers: auth(scoped) }),
      403,
      /every bucket/,
      'metrics with scoped token',
    );
    const metrics = await send({ method: 'GET', url: `${base}/metrics`, headers: auth(full) });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text(), /spool_http_errors_total\{status="401",reason="required"\} \d+/);
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    send({
      method: 'OPTIONS',
      url,
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, x-upload-content-length',
      },
    });

  it('answers preflights for allowed origins and refuses others', async () => {
    const ok = await preflight(
      uploadUrl('test-bucket', 'uploadType=resumable&name=x'),
      'https://app.example',
    );
    assert.equal(ok.status, 204);
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(
      ok.headers['access-control-allow-headers'],
      'authorization, content-type, x-upload-content-length',
    );
    assert.match(String(ok.headers['access-control-allow-methods']), /PUT/);
    refused(
      await preflight(
        uploadUrl('test-bucket', 'uploadType=resumable&name=x'),
        'https://evil.example',
      ),
      403,
      /Origin https:\/\/evil.example may not use this server/,
      'preflight',
    );
  });

  it('exposes the upload headers to allowed origins only', async () => {
    const allowed = await send({
      method: 'POST',
      url: uploadUrl('test-bucket', 'uploadType=resumable&name=cors.bin'),
      headers: { ...auth(full), origin: 'https://app.example' },
    });
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example');
    assert.match(
      String(allowed.headers['access-control-expose-headers']),
      /Location.*Range.*X-GUploader-UploadID.*X-Goog-Hash/,
    );
    const other = await send({
      method: 'GET',
      url: `${base}/storage/v1/b/test-bucket/o`,
      headers: { ...auth(full), origin: 'https://evil.example' },
    });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it('a session answers the Origin it was started with, and only that one', async () => {
    // An app's backend starts the session for a browser page on an origin not in --cors-origin.
    const start = await send({
      method: 'POST',
      url: uploadUrl('test-bucket', 'uploadType=resumable&name=browser.bin'),
      headers: { ...auth(full), origin: 'https://page.example' },
    });
    const session = start.headers.location!;
    const pre = await send({
      method: 'OPTIONS',
      url: session,
      headers: {
        origin: 'https://page.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-range',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://page.example');
    const put = await send({
      method: 'PUT',
      url: session,
      headers: { origin: 'https://page.example', 'content-range': `bytes 0-${CHUNK - 1}/*` },
      body: randomData(CHUNK),
    });
    assert.equal(put.status, 308);
    assert.equal(put.headers['access-control-allow-origin'], 'https://page.example');
    assert.match(String(put.headers['access-control-expose-headers']), /Range/);
    const stranger = await query(session);
    assert.equal(stranger.headers['access-control-allow-origin'], undefined);
    const wrong = await send({
      method: 'PUT',
      url: session,
      headers: { origin: 'https://app.example', 'content-range': 'bytes */*' },
    });
    assert.equal(
      wrong.headers['access-control-allow-origin'],
      undefined,
      "even an allowed origin is not this session's",
    );
  });
});
