// Running Spool: metrics that count what happened, expiry, every limit with its error (the server
// keeps serving others), TLS with certificate reload, structured logs, and the exposure warning.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CHUNK,
  MiB,
  initiate,
  initiateRaw,
  putChunk,
  query,
  randomData,
  storedBytes,
} from './harness/gcs.js';
import { messageOf, send, sendRaw } from './harness/http.js';
import { scrape } from './harness/metrics.js';
import { SpoolProcess, repoRoot } from './harness/spool-process.js';

const bucket = 'test-bucket';
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-ops-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`gave up waiting for ${what}`);
}

describe('metrics', () => {
  it('count sessions, objects, bytes, requests and errors exactly', async () => {
    const spool = await SpoolProcess.start();
    try {
      const base = spool.url;
      for (const name of ['m/a', 'm/b'])
        assert.equal(
          (await putChunk(await initiate(base, bucket, name), undefined, randomData(1000))).status,
          200,
        );
      const xml = await send({
        method: 'POST',
        url: `${base}/${bucket}/m/xml`,
        headers: { 'x-goog-resumable': 'start' },
      });
      assert.equal((await putChunk(xml.headers.location!, undefined, randomData(500))).status, 200);
      assert.equal(
        (
          await send({
            method: 'POST',
            url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=m/media`,
            body: randomData(300),
          })
        ).status,
        200,
      );
      const multipart = Buffer.concat([
        Buffer.from(
          '--x\r\nContent-Type: application/json\r\n\r\n{"name":"m/multi"}\r\n--x\r\nContent-Type: a/b\r\n\r\n',
        ),
        randomData(200),
        Buffer.from('\r\n--x--'),
      ]);
      assert.equal(
        (
          await send({
            method: 'POST',
            url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=multipart`,
            headers: { 'content-type': 'multipart/related; boundary=x' },
            body: multipart,
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await putChunk(
            await initiate(base, bucket, 'm/small-chunk'),
            'bytes 0-99/*',
            randomData(100),
          )
        ).status,
        400,
      );
      assert.equal(
        (
          await putChunk(await initiate(base, bucket, 'm/bad-hash'), undefined, randomData(100), {
            'x-goog-hash': 'crc32c=AAAAAA==',
          })
        ).status,
        400,
      );
      assert.equal(
        (await send({ method: 'DELETE', url: await initiate(base, bucket, 'm/cancelled') })).status,
        499,
      );
      await initiate(base, bucket, 'm/left-open');
      assert.equal(
        (await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o/nothing-here` }))
          .status,
        404,
      );

      const m = await scrape(base);
      assert.equal(m.get('spool_sessions_started_total{api="json"}'), 6);
      assert.equal(m.get('spool_sessions_started_total{api="xml"}'), 1);
      assert.equal(m.get('spool_sessions_completed_total'), 3);
      assert.equal(m.get('spool_sessions_failed_total{reason="invalid"}'), 2);
      assert.equal(m.get('spool_sessions_cancelled_total'), 1);
      assert.equal(m.get('spool_sessions_open'), 1);
      assert.equal(m.get('spool_objects_stored_total{type="resumable"}'), 2);
      assert.equal(m.get('spool_objects_stored_total{type="xml"}'), 1);
      assert.equal(m.get('spool_objects_stored_total{type="media"}'), 1);
      assert.equal(m.get('spool_objects_stored_total{type="multipart"}'), 1);
      assert.equal(m.get('spool_bytes_received_total'), 1000 + 1000 + 500 + 300 + 200 + 100);
      assert.equal(m.get('spool_http_requests_total{method="GET",route="object",status="404"}'), 1);
      assert.equal(m.get('spool_http_errors_total{status="404",reason="notFound"}'), 1);
      assert.equal(m.get('spool_http_errors_total{status="400",reason="invalid"}'), 2);
      assert.equal(m.get('spool_http_request_duration_seconds_count{route="upload"}'), 13);
      assert.equal(m.get('spool_http_request_duration_seconds_count{route="xml-object"}'), 2);
      assert.equal(m.get('spool_uploads_in_progress'), 0);
    } finally {
      await spool.stop();
    }
  });

  it('expired sessions are swept with their data, and counted', async () => {
    const spool = await SpoolProcess.start({
      args: ['--session-ttl', '1s', '--sweep-interval', '300ms'],
    });
    try {
      const uri = await initiate(spool.url, bucket, 'expiring.bin');
      assert.equal((await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, randomData(CHUNK))).status, 308);
      assert.equal((await readdir(join(spool.dataDir, 'blobs'))).length, 1);
      await waitFor(
        async () => (await scrape(spool.url)).get('spool_sessions_expired_total') === 1,
        'the sweep',
      );
      assert.deepEqual(
        await readdir(join(spool.dataDir, 'blobs')),
        [],
        'the data went with the session',
      );
      assert.deepEqual(await readdir(join(spool.dataDir, 'sessions')), []);
      assert.equal((await scrape(spool.url)).get('spool_sessions_open'), 0);
    } finally {
      await spool.stop();
    }
  });
});

describe('limits', () => {
  let spool: SpoolProcess;
  let base: string;
  before(async () => {
    spool = await SpoolProcess.start({
      args: [
        '--max-object-size',
        '1MiB',
        '--max-header-size',
        '4KiB',
        '--idle-timeout',
        '1s',
        '--min-body-rate',
        '64KiB',
        '--session-rate',
        '2',
      ],
    });
    base = spool.url;
  });
  after(async () => spool.stop());

  /** The server still does its normal work after a limit was hit. */
  async function stillServing(): Promise<void> {
    const res = await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o` });
    assert.equal(res.status, 200);
  }

  it('--max-object-size: declared, announced and streamed sizes over it get 413 and store nothing', async () => {
    const declared = await initiateRaw(base, bucket, 'big.bin', {
      headers: { 'x-upload-content-length': 2 * MiB },
    });
    assert.equal(declared.status, 413);
    assert.match(
      messageOf(declared),
      /exceeds this server's maximum object size of 1048576 byte\(s\) \(spool serve --max-object-size\)/,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const uri = await initiate(base, bucket, 'big.bin');
    assert.equal(
      (await putChunk(uri, `bytes 0-${CHUNK - 1}/${2 * MiB}`, randomData(CHUNK))).status,
      413,
    );
    const media = await send({
      method: 'POST',
      url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=big.bin`,
      body: randomData(2 * MiB),
    });
    assert.equal(media.status, 413);
    const streamed = await send({
      method: 'POST',
      url: `${base}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=big.bin`,
      body: [randomData(MiB), randomData(MiB)],
    });
    assert.equal(streamed.status, 413);
    assert.equal(
      (await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o/big.bin` })).status,
      404,
    );
    await stillServing();
  });

  it('--max-header-size: larger headers get 431', async () => {
    const answer = await sendRaw(
      base,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(5000)}\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1.1 431/);
    await stillServing();
  });

  it('--idle-timeout: a silent connection is closed and its aligned prefix kept', async () => {
    await new Promise((r) => setTimeout(r, 1000));
    const uri = await initiate(base, bucket, 'idle.bin');
    const target = new URL(uri);
    const { connect } = await import('node:net');
    const socket = connect(Number(target.port), target.hostname);
    const closed = new Promise((r) => socket.once('close', r));
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-${MiB - 1}/*\r\nContent-Length: ${MiB}\r\n\r\n`,
    );
    socket.write(randomData(300 * 1024));
    await closed; // the server gives up on the silent client
    assert.equal(storedBytes(await query(uri)), CHUNK);
    await stillServing();
  });

  it('--min-body-rate: a trickling body is cut with 408 and its aligned prefix kept', async () => {
    await new Promise((r) => setTimeout(r, 1000));
    const uri = await initiate(base, bucket, 'slow.bin');
    const target = new URL(uri);
    const { connect } = await import('node:net');
    const socket = connect(Number(target.port), target.hostname);
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise((r) => socket.once('close', r));
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-${MiB - 1}/*\r\nContent-Length: ${MiB}\r\n\r\n`,
    );
    socket.write(randomData(CHUNK + 100));
    const trickle = setInterval(() => socket.write(randomData(512)), 100);
    await closed;
    clearInterval(trickle);
    assert.match(answer, /^HTTP\/1.1 408/);
    assert.match(
      answer,
      /slower than 65536 bytes a second, so the server stopped reading it; 262144 byte\(s\) of the upload are stored/,
    );
    assert.equal(storedBytes(await query(uri)), CHUNK);
    await stillServing();
  });

  it('--session-rate: starting sessions too fast gets 429 with Retry-After', async () => {
    await new Promise((r) => setTimeout(r, 2100));
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await initiateRaw(base, bucket, `rate-${i}.bin`));
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(
      limited.length >= 1,
      `some of 6 quick starts are refused (statuses ${answers.map((a) => a.status).join(',')})`,
    );
    assert.match(String(limited[0]!.headers['retry-after']), /^\d+$/);
    assert.match(
      messageOf(limited[0]!),
      /Too many upload sessions started; retry after \d+ second\(s\) \(spool serve --session-rate\)/,
    );
    await stillServing();
  });
});

describe('open sessions per token', () => {
  it('--max-sessions-per-token: a token with too many open sessions gets 429 until it closes one', async () => {
    const token = 'limits-token-0123456789abcdef0000';
    await writeFile(join(dir, 'tokens'), `${token}\n`);
    const spool = await SpoolProcess.start({
      args: ['--token-file', join(dir, 'tokens'), '--max-sessions-per-token', '2'],
    });
    try {
      const headers = { authorization: `Bearer ${token}` };
      const first = await initiate(spool.url, bucket, 'one', { headers });
      await initiate(spool.url, bucket, 'two', { headers });
      const third = await initiateRaw(spool.url, bucket, 'three', { headers });
      assert.equal(third.status, 429);
      assert.match(messageOf(third), /already has 2 open upload sessions: finish or cancel some/);
      assert.equal((await send({ method: 'DELETE', url: first })).status, 499);
      assert.equal((await initiateRaw(spool.url, bucket, 'three', { headers })).status, 200);
    } finally {
      await spool.stop();
    }
  });
});

describe('TLS', () => {
  function certificate(name: string): { cert: string; key: string } {
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=${name}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return { cert, key };
  }
  const fingerprint = (url: string) =>
    new Promise<string>((resolve, reject) => {
      const u = new URL(url);
      const socket = tlsConnect(
        { host: u.hostname, port: Number(u.port), rejectUnauthorized: false },
        () => {
          resolve(socket.getPeerCertificate().fingerprint256);
          socket.end();
        },
      );
      socket.on('error', reject);
    });

  it('serves HTTPS to the official client, and reloads its certificate on SIGHUP', async () => {
    const first = certificate('first');
    const second = certificate('second');
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    execFileSync('cp', [first.cert, live.cert]);
    execFileSync('cp', [first.key, live.key]);
    const spool = await SpoolProcess.start({
      args: ['--tls-cert', live.cert, '--tls-key', live.key],
    });
    try {
      assert.match(spool.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const script = `
        import { Storage } from '@google-cloud/storage';
        import { randomBytes } from 'node:crypto';
        const storage = new Storage({ apiEndpoint: ${JSON.stringify(spool.url)}, projectId: 'tls' });
        const data = randomBytes(3 * 1024 * 1024 + 7);
        const file = storage.bucket('test-bucket').file('tls.bin');
        await file.save(data, { resumable: true });
        const [back] = await file.download();
        if (!back.equals(data)) throw new Error('bytes differ');
        const [metadata] = await file.getMetadata();
        if (!metadata.mediaLink.startsWith('https://')) throw new Error('mediaLink is not https: ' + metadata.mediaLink);
        console.log('ok');`;
      const client = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: repoRoot,
        env: { ...process.env, NODE_EXTRA_CA_CERTS: first.cert },
        encoding: 'utf8',
      });
      assert.equal(client.status, 0, client.stderr);
      assert.equal(client.stdout.trim(), 'ok');

      const before = await fingerprint(spool.url);
      execFileSync('cp', [second.cert, live.cert]);
      execFileSync('cp', [second.key, live.key]);
      spool.notify('SIGHUP');
      await waitFor(async () => (await fingerprint(spool.url)) !== before, 'the new certificate');
      const expected = execFileSync(
        'openssl',
        ['x509', '-in', second.cert, '-noout', '-fingerprint', '-sha256'],
        { encoding: 'utf8' },
      )
        .split('=')[1]!
        .trim();
      assert.equal(await fingerprint(spool.url), expected);
    } finally {
      await spool.stop();
    }
  });
});

describe('logs and exposure', () => {
  it('logs one JSON line per request with an id, and warns loudly when exposed without tokens', async () => {
    const exposed = await SpoolProcess.start({
      args: ['--host', '0.0.0.0', '--log-level', 'info'],
    });
    try {
      assert.match(
        exposed.stderr,
        /\*\*\* WARNING: spool serve is listening on http:\/\/0\.0\.0\.0:\d+ WITHOUT AUTHENTICATION/,
      );
      const local = exposed.url.replace('0.0.0.0', '127.0.0.1');
      await send({ method: 'GET', url: `${local}/storage/v1/b/${bucket}/o` });
      await waitFor(
        () => Promise.resolve(exposed.stderr.includes('"msg":"request"')),
        'a request log line',
      );
      const line = exposed.stderr.split('\n').find((l) => l.includes('"msg":"request"'))!;
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.match(String(entry['id']), /^[0-9a-f]{32}-[0-9a-z]+$/);
      assert.equal(entry['method'], 'GET');
      assert.equal(entry['status'], 200);
      assert.equal(typeof entry['ms'], 'number');
    } finally {
      await exposed.stop();
    }
    await writeFile(join(dir, 'quiet-tokens'), 'quiet-token-0123456789abcdef00\n');
    const guarded = await SpoolProcess.start({
      args: ['--host', '0.0.0.0', '--token-file', join(dir, 'quiet-tokens')],
    });
    try {
      assert.doesNotMatch(guarded.stderr, /WITHOUT AUTHENTICATION/);
    } finally {
      await guarded.stop();
    }
  });
});
