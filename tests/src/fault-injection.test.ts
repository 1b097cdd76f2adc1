// Fault injection (spool serve --fault-injection): every instruction, by Retry Test API and by
// header, with its effect on the wire; and a server without the flag, where none of it exists.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CHUNK,
  KiB,
  MiB,
  download,
  initiate,
  initiateRaw,
  putChunk,
  query,
  randomData,
  storedBytes,
} from './harness/gcs.js';
import { createRetryTest, getRetryTest, waitUntil } from './harness/faults.js';
import { connectionEnding, openResponse, send } from './harness/http.js';
import { SpoolProcess } from './harness/spool-process.js';

const bucket = 'test-bucket';
let spool: SpoolProcess;
let base: string;
let counter = 0;
const nextName = () => `faults/object-${++counter}.bin`;
const retryTestHeader = (id: string) => ({ 'x-retry-test-id': id });

before(async () => {
  spool = await SpoolProcess.start({ args: ['--fault-injection'] });
  base = spool.url;
});
after(async () => spool.stop());

async function completed(id: string): Promise<boolean> {
  return (await getRetryTest(base, id)).completed;
}

async function readBack(name: string): Promise<Buffer> {
  const res = await download(base, bucket, name);
  assert.equal(res.status, 200, res.text());
  return res.body;
}

/** Stores `data` as an object without any fault. */
async function stored(data: Buffer): Promise<string> {
  const name = nextName();
  const uri = await initiate(base, bucket, name);
  const res = await putChunk(uri, `bytes 0-${data.length - 1}/${data.length}`, data);
  assert.equal(res.status, 200);
  return name;
}

const mediaUrl = (name: string) =>
  `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`;

/** A raw request line and headers, for requests whose connection is reset. */
function rawRequest(method: string, url: string, headers: Record<string, string | number>): string {
  const target = new URL(url);
  const lines = [`${method} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`];
  for (const [k, v] of Object.entries({ ...headers, connection: 'close' }))
    lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

describe('Retry Test API', () => {
  it('creates, shows, lists and deletes retry tests in the testbench shapes', async () => {
    const instructions = { 'storage.objects.insert': ['return-503', 'return-reset-connection'] };
    const created = await createRetryTest(base, instructions);
    assert.match(created.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(created, {
      id: created.id,
      instructions,
      completed: false,
      transport: 'HTTP',
    });
    assert.deepEqual(await getRetryTest(base, created.id), created);
    const list = await send({ method: 'GET', url: `${base}/retry_tests` });
    assert.equal(list.status, 200);
    assert.ok(
      list.json<{ retry_test: { id: string }[] }>().retry_test.some((t) => t.id === created.id),
    );
    const deleted = await send({ method: 'DELETE', url: `${base}/retry_test/${created.id}` });
    assert.equal(deleted.status, 200);
    const gone = await send({ method: 'GET', url: `${base}/retry_test/${created.id}` });
    assert.equal(gone.status, 404);
    assert.match(gone.json<{ error: { message: string } }>().error.message, /restart forgets them/);
  });

  it('refuses unknown methods, malformed instructions and bodies with a 400 that says why', async () => {
    const post = (body: string) =>
      send({
        method: 'POST',
        url: `${base}/retry_test`,
        headers: { 'content-type': 'application/json' },
        body,
      });
    const message = async (body: string) => {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      return res.json<{ error: { message: string } }>().error.message;
    };
    assert.match(
      await message('{"instructions":{"storage.objects.rewrite":["return-503"]}}'),
      /Unknown method "storage\.objects\.rewrite" for fault injection; Spool serves storage\.objects\.insert/,
    );
    assert.match(
      await message('{"instructions":{"storage.objects.insert":["return-503-after-2M"]}}'),
      /Invalid fault injection instruction "return-503-after-2M": Spool understands return-X/,
    );
    assert.match(
      await message('{"instructions":{"storage.objects.insert":["return-corrupted-data"]}}'),
      /can never fire on storage\.objects\.insert/,
    );
    assert.match(await message('{"instructions":{}}'), /no "instructions"/);
    assert.match(await message('not json'), /must be JSON/);
    assert.match(
      await message('{"instructions":{"storage.objects.get":["return-503"]},"transport":"GRPC"}'),
      /HTTP only/,
    );
  });

  it('answers 404 to a request whose x-retry-test-id names no retry test', async () => {
    const res = await initiateRaw(base, bucket, nextName(), {
      headers: retryTestHeader('0123456789abcdef0123456789abcdef'),
    });
    assert.equal(res.status, 404);
    assert.match(
      res.json<{ error: { message: string } }>().error.message,
      /No retry test "0123456789abcdef0123456789abcdef"/,
    );
  });
});

describe('return-X', () => {
  it('answers X to the next requests of the method, first in first out, until the test is completed', async () => {
    const test = await createRetryTest(base, {
      'storage.objects.insert': ['return-503', 'return-408'],
    });
    const headers = retryTestHeader(test.id);
    const name = nextName();
    const first = await initiateRaw(base, bucket, name, { headers });
    assert.equal(first.status, 503);
    assert.equal(first.headers['x-spool-fault'], 'return-503');
    assert.equal(first.json<{ error: { code: number } }>().error.code, 503);
    assert.equal(await completed(test.id), false);
    const second = await initiateRaw(base, bucket, name, { headers });
    assert.equal(second.status, 408);
    assert.equal(await completed(test.id), true);
    const uri = await initiate(base, bucket, name, { headers });
    const data = randomData(1000);
    const done = await putChunk(uri, 'bytes 0-999/1000', data, headers);
    assert.equal(done.status, 200);
    assert.deepEqual(await readBack(name), data);
  });

  it('on a chunk, answers before taking any byte of it', async () => {
    const test = await createRetryTest(base, { 'storage.objects.insert': ['return-500'] });
    const uri = await initiate(base, bucket, nextName());
    const res = await putChunk(
      uri,
      `bytes 0-${2 * CHUNK - 1}/*`,
      randomData(2 * CHUNK),
      retryTestHeader(test.id),
    );
    assert.equal(res.status, 500);
    assert.equal(storedBytes(await query(uri)), 0);
    assert.equal(await completed(test.id), true);
  });

  it('fires on the method it is queued for: objects.get, objects.list, buckets.get, objects.delete', async () => {
    const name = await stored(randomData(10));
    const test = await createRetryTest(base, {
      'storage.objects.get': ['return-504'],
      'storage.objects.list': ['return-429'],
      'storage.buckets.get': ['return-401'],
      'storage.objects.delete': ['return-502'],
    });
    const headers = retryTestHeader(test.id);
    const objectUrl = `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`;
    const statuses = [
      (await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o`, headers })).status,
      (await send({ method: 'GET', url: objectUrl, headers })).status,
      (await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}`, headers })).status,
      (await send({ method: 'DELETE', url: objectUrl, headers })).status,
    ];
    assert.deepEqual(statuses, [429, 504, 401, 502]);
    assert.equal(await completed(test.id), true);
    assert.equal((await send({ method: 'GET', url: objectUrl, headers })).status, 200);
  });
});

describe('return-X in the XML API', () => {
  it('answers with an XML error document, as the XML API answers errors', async () => {
    const name = await stored(randomData(10));
    const test = await createRetryTest(base, { 'storage.objects.get': ['return-503'] });
    const res = await send({
      method: 'GET',
      url: `${base}/${bucket}/${encodeURIComponent(name)}`,
      headers: retryTestHeader(test.id),
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-spool-fault'], 'return-503');
    assert.match(res.text(), /^<\?xml[^>]*>\s*<Error><Code>/);
    assert.equal(await completed(test.id), true);
  });
});

describe('return-reset-connection', () => {
  it('resets the TCP connection instead of answering: the socket sees ECONNRESET', async () => {
    const test = await createRetryTest(base, {
      'storage.objects.insert': ['return-reset-connection', 'return-reset-connection'],
    });
    const name = nextName();
    await assert.rejects(initiateRaw(base, bucket, name, { headers: retryTestHeader(test.id) }), {
      code: 'ECONNRESET',
    });
    const uri = await initiate(base, bucket, name);
    const outcome = await connectionEnding(
      uri,
      rawRequest('PUT', uri, {
        ...retryTestHeader(test.id),
        'content-range': 'bytes */*',
        'content-length': 0,
      }),
    );
    assert.equal(outcome.ending, 'reset');
    assert.equal(outcome.received.length, 0);
    assert.equal(await completed(test.id), true);
    assert.equal((await query(uri)).status, 308);
  });
});

describe('return-X-after-YK', () => {
  it('keeps exactly Y KiB of the upload, not 256 KiB-aligned, then answers X', async () => {
    const data = randomData(2 * MiB);
    const name = nextName();
    const test = await createRetryTest(base, {
      'storage.objects.insert': ['return-503-after-300K'],
    });
    const headers = retryTestHeader(test.id);
    // Neither the initiation nor a status query carries upload bytes: the instruction waits.
    const uri = await initiate(base, bucket, name, { headers });
    assert.equal((await query(uri)).status, 308);
    assert.equal(await completed(test.id), false);
    const res = await putChunk(uri, `bytes 0-${MiB - 1}/*`, data.subarray(0, MiB), headers);
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-spool-fault'], 'return-503-after-300K');
    assert.equal(storedBytes(await query(uri)), 300 * KiB);
    assert.equal(await completed(test.id), true);
    const rest = await putChunk(
      uri,
      `bytes ${300 * KiB}-${data.length - 1}/${data.length}`,
      data.subarray(300 * KiB),
    );
    assert.equal(rest.status, 200);
    assert.deepEqual(await readBack(name), data);
  });

  it('counts absolute offsets: resent bytes are skipped, chunks short of Y leave it queued, an upload past Y fails at once', async () => {
    const data = randomData(2 * MiB);
    const name = nextName();
    const test = await createRetryTest(base, {
      'storage.objects.insert': [
        'return-503-after-700K',
        'return-504-after-512K',
        'return-500-after-1536K',
      ],
    });
    const headers = retryTestHeader(test.id);
    const uri = await initiate(base, bucket, name);
    const put = (from: number, to: number, total = '*') =>
      putChunk(uri, `bytes ${from}-${to - 1}/${total}`, data.subarray(from, to), headers);

    assert.equal((await put(0, 512 * KiB)).status, 308);
    assert.deepEqual((await getRetryTest(base, test.id)).instructions['storage.objects.insert'], [
      'return-503-after-700K',
      'return-504-after-512K',
      'return-500-after-1536K',
    ]);
    // Resends the first 512 KiB: the stop is at absolute offset 700 KiB all the same.
    assert.equal((await put(0, MiB)).status, 503);
    assert.equal(storedBytes(await query(uri)), 700 * KiB);
    // Already past 512 KiB: the next instruction fires before any byte is taken.
    assert.equal((await put(700 * KiB, 2 * MiB, String(data.length))).status, 504);
    assert.equal(storedBytes(await query(uri)), 700 * KiB);
    assert.equal((await put(700 * KiB, 2 * MiB, String(data.length))).status, 500);
    assert.equal(storedBytes(await query(uri)), 1536 * KiB);
    assert.equal(await completed(test.id), true);
    assert.equal((await put(1536 * KiB, 2 * MiB, String(data.length))).status, 200);
    assert.deepEqual(await readBack(name), data);
  });
});

describe('return-X-after-YK on one-request uploads', () => {
  it('takes the body up to Y KiB, answers X, and stores nothing (uploadType=media)', async () => {
    const name = nextName();
    const test = await createRetryTest(base, {
      'storage.objects.insert': ['return-503-after-300K'],
    });
    const url = `${base}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`;
    const data = randomData(MiB);
    const res = await send({ method: 'POST', url, headers: retryTestHeader(test.id), body: data });
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-spool-fault'], 'return-503-after-300K');
    assert.equal((await download(base, bucket, name)).status, 404);
    assert.equal(await completed(test.id), true);
    const again = await send({
      method: 'POST',
      url,
      headers: retryTestHeader(test.id),
      body: data,
    });
    assert.equal(again.status, 200);
    assert.deepEqual(await readBack(name), data);
  });
});

describe('stall-for-Ts-after-YK on uploads', () => {
  it('stops reading the body at Y KiB; a status query during the stall supersedes it and finds Y KiB', async () => {
    const data = randomData(MiB);
    const name = nextName();
    const test = await createRetryTest(base, {
      'storage.objects.insert': ['stall-for-600s-after-256K'],
    });
    const uri = await initiate(base, bucket, name);
    const stalled = putChunk(
      uri,
      `bytes 0-${data.length - 1}/${data.length}`,
      data,
      retryTestHeader(test.id),
    );
    // The instruction is taken when the stall begins.
    await waitUntil('the stall has begun', () => completed(test.id));
    const status = await query(uri);
    assert.equal(status.status, 308);
    assert.equal(storedBytes(status), 256 * KiB);
    const answer = await stalled;
    assert.equal(answer.status, 503);
    assert.match(answer.text(), /newer request arrived on the same upload session/);
    assert.equal(answer.headers['x-spool-fault'], 'stall-for-600s-after-256K');
    const rest = await putChunk(
      uri,
      `bytes ${256 * KiB}-${data.length - 1}/${data.length}`,
      data.subarray(256 * KiB),
    );
    assert.equal(rest.status, 200);
    assert.deepEqual(await readBack(name), data);
  });

  it('goes on after T seconds, and the request completes as usual', async () => {
    const data = randomData(MiB + 10);
    const name = nextName();
    const test = await createRetryTest(base, {
      'storage.objects.insert': ['stall-for-1s-after-100K'],
    });
    const uri = await initiate(base, bucket, name);
    const res = await putChunk(
      uri,
      `bytes 0-${data.length - 1}/${data.length}`,
      data,
      retryTestHeader(test.id),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-spool-fault'], 'stall-for-1s-after-100K');
    assert.equal(await completed(test.id), true);
    assert.deepEqual(await readBack(name), data);
  });
});

describe('return-broken-stream-final-chunk-after-YB', () => {
  it('completes the upload, then cuts its answer after Y bytes; a status query gets the object', async () => {
    const data = randomData(3 * CHUNK + 7);
    const name = nextName();
    const test = await createRetryTest(base, {
      'storage.objects.insert': ['return-broken-stream-final-chunk-after-10B'],
    });
    const headers = retryTestHeader(test.id);
    const uri = await initiate(base, bucket, name, { headers });
    // Only the answer that carries the object is cut: a non-final chunk leaves the instruction.
    const first = await putChunk(
      uri,
      `bytes 0-${2 * CHUNK - 1}/*`,
      data.subarray(0, 2 * CHUNK),
      headers,
    );
    assert.equal(first.status, 308);
    assert.equal(await completed(test.id), false);
    const last = await openResponse({
      method: 'PUT',
      url: uri,
      headers: {
        ...headers,
        'content-range': `bytes ${2 * CHUNK}-${data.length - 1}/${data.length}`,
      },
      body: data.subarray(2 * CHUNK),
    });
    assert.equal(last.status, 200);
    assert.ok(Number(last.headers['content-length']) > 10);
    assert.equal(await last.ended, 'cut');
    assert.equal(last.received(), 10);
    assert.equal(await completed(test.id), true);
    const status = await query(uri);
    assert.equal(status.status, 200);
    assert.equal(status.json()['size'], String(data.length));
    assert.deepEqual(await readBack(name), data);
  });

  it('with 0B, the client gets the status line and headers, and no byte of the object resource', async () => {
    const name = nextName();
    const test = await createRetryTest(base, {
      'storage.objects.insert': ['return-broken-stream-final-chunk-after-0B'],
    });
    const uri = await initiate(base, bucket, name);
    const res = await openResponse({
      method: 'PUT',
      url: uri,
      headers: { ...retryTestHeader(test.id), 'content-range': 'bytes 0-4/5' },
      body: Buffer.from('hello'),
    });
    assert.equal(res.status, 200);
    assert.equal(await res.ended, 'cut');
    assert.equal(res.received(), 0);
    assert.deepEqual(await readBack(name), Buffer.from('hello'));
  });
});

describe('download instructions', () => {
  it('return-broken-stream cuts a download after 4 bytes in a retry test, after 1 MiB by header', async () => {
    const data = randomData(2 * MiB);
    const name = await stored(data);
    const test = await createRetryTest(base, { 'storage.objects.get': ['return-broken-stream'] });
    const byTest = await openResponse({
      method: 'GET',
      url: mediaUrl(name),
      headers: retryTestHeader(test.id),
    });
    assert.equal(byTest.status, 200);
    assert.equal(byTest.headers['content-length'], String(data.length));
    assert.equal(await byTest.ended, 'cut');
    assert.deepEqual(byTest.body(), data.subarray(0, 4));
    assert.equal(await completed(test.id), true);

    const byHeader = await openResponse({
      method: 'GET',
      url: mediaUrl(name),
      headers: { 'x-goog-emulator-instructions': 'return-broken-stream' },
    });
    assert.equal(await byHeader.ended, 'cut');
    assert.deepEqual(byHeader.body(), data.subarray(0, MiB));
  });

  it('return-broken-stream-after-YK cuts after Y KiB, counted from the first byte sent', async () => {
    const data = randomData(MiB);
    const name = await stored(data);
    const test = await createRetryTest(base, {
      'storage.objects.get': ['return-broken-stream-after-256K'],
    });
    const res = await openResponse({
      method: 'GET',
      url: mediaUrl(name),
      headers: { ...retryTestHeader(test.id), range: 'bytes=1000-' },
    });
    assert.equal(res.status, 206);
    assert.equal(await res.ended, 'cut');
    assert.deepEqual(res.body(), data.subarray(1000, 1000 + 256 * KiB));
    assert.equal(await completed(test.id), true);
    // The client resumes with a range from where it was cut.
    const rest = await download(base, bucket, name, { range: `bytes=${1000 + 256 * KiB}-` });
    assert.deepEqual(rest.body, data.subarray(1000 + 256 * KiB));
  });

  it('return-corrupted-data changes the first byte; the hashes still describe the object', async () => {
    const data = randomData(100_000);
    data[0] = 0x41;
    const name = await stored(data);
    const test = await createRetryTest(base, { 'storage.objects.get': ['return-corrupted-data'] });
    const res = await download(base, bucket, name, retryTestHeader(test.id));
    assert.equal(res.status, 200);
    assert.equal(res.body.length, data.length);
    assert.equal(res.body[0], 0x42);
    assert.deepEqual(res.body.subarray(1), data.subarray(1));
    const clean = await download(base, bucket, name);
    assert.deepEqual(clean.body, data);
    assert.deepEqual(res.headers['x-goog-hash'], clean.headers['x-goog-hash']);
    assert.equal(await completed(test.id), true);
  });

  it('stall-always sends the status and headers, then no byte', async () => {
    const name = await stored(randomData(100_000));
    const test = await createRetryTest(base, { 'storage.objects.get': ['stall-always'] });
    const res = await openResponse({
      method: 'GET',
      url: mediaUrl(name),
      headers: retryTestHeader(test.id),
    });
    assert.equal(res.status, 200);
    await waitUntil('the stall has begun', () => completed(test.id));
    // The stall lasts 10 s; the client gives up first, as a client with a short timeout does.
    assert.equal(res.received(), 0);
    res.abort();
    assert.equal(await res.ended, 'cut');
  });

  it('stall-at-256KiB stalls after 256 KiB of a download from the first byte, and only of those', async () => {
    const data = randomData(MiB);
    const name = await stored(data);
    const test = await createRetryTest(base, { 'storage.objects.get': ['stall-at-256KiB'] });
    const ranged = await download(base, bucket, name, {
      ...retryTestHeader(test.id),
      range: 'bytes=1-',
    });
    assert.deepEqual(ranged.body, data.subarray(1));
    assert.equal(await completed(test.id), false);
    const res = await openResponse({
      method: 'GET',
      url: mediaUrl(name),
      headers: retryTestHeader(test.id),
    });
    await waitUntil(
      'the stall has begun and its bytes have arrived',
      async () => (await completed(test.id)) && res.received() >= 256 * KiB,
    );
    assert.deepEqual(res.body(), data.subarray(0, 256 * KiB));
    res.abort();
  });

  it('stall-for-Ts-after-YK pauses a download at Y KiB, then sends the rest', async () => {
    const data = randomData(MiB);
    const name = await stored(data);
    const long = await createRetryTest(base, {
      'storage.objects.get': ['stall-for-600s-after-100K'],
    });
    const res = await openResponse({
      method: 'GET',
      url: mediaUrl(name),
      headers: retryTestHeader(long.id),
    });
    await waitUntil(
      'the stall has begun and its bytes have arrived',
      async () => (await completed(long.id)) && res.received() >= 100 * KiB,
    );
    assert.deepEqual(res.body(), data.subarray(0, 100 * KiB));
    res.abort();

    const short = await createRetryTest(base, {
      'storage.objects.get': ['stall-for-1s-after-100K'],
    });
    const whole = await download(base, bucket, name, retryTestHeader(short.id));
    assert.deepEqual(whole.body, data);
    assert.equal(await completed(short.id), true);
  });
});

describe('x-goog-emulator-instructions', () => {
  it('applies to the one request that carries it, every time; x-goog-testbench-instructions too', async () => {
    const data = randomData(MiB);
    const name = nextName();
    const uri = await initiate(base, bucket, name, {
      headers: { 'x-goog-emulator-instructions': 'return-503-after-256K' },
    });
    for (const header of ['x-goog-emulator-instructions', 'x-goog-testbench-instructions']) {
      const res = await putChunk(uri, `bytes 0-${MiB - 1}/${MiB}`, data, {
        [header]: 'return-503-after-256K',
      });
      assert.equal(res.status, 503);
      assert.equal(storedBytes(await query(uri)), 256 * KiB);
    }
    const done = await putChunk(
      uri,
      `bytes ${256 * KiB}-${MiB - 1}/${MiB}`,
      data.subarray(256 * KiB),
    );
    assert.equal(done.status, 200);
    assert.deepEqual(await readBack(name), data);
  });

  it('is ignored by requests it does not concern, and a malformed one is a 400 naming the header', async () => {
    const data = randomData(1000);
    const name = nextName();
    const uri = await initiate(base, bucket, name, {
      headers: { 'x-goog-emulator-instructions': 'return-broken-stream' },
    });
    assert.equal(
      (
        await putChunk(uri, 'bytes 0-999/1000', data, {
          'x-goog-emulator-instructions': 'return-corrupted-data',
        })
      ).status,
      200,
    );
    const bad = await initiateRaw(base, bucket, nextName(), {
      headers: { 'x-goog-testbench-instructions': 'return-fivehundred' },
    });
    assert.equal(bad.status, 400);
    assert.match(
      bad.json<{ error: { message: string } }>().error.message,
      /Invalid fault injection instruction "return-fivehundred".*\(header x-goog-testbench-instructions\)/,
    );
  });
});

describe('off by default; --fault-injection or SPOOL_FAULT_INJECTION turns it on', () => {
  let plain: SpoolProcess;
  before(async () => {
    plain = await SpoolProcess.start();
  });
  after(async () => plain.stop());

  it('SPOOL_FAULT_INJECTION=1 turns it on, as the flag does', async () => {
    const byEnv = await SpoolProcess.start({ env: { SPOOL_FAULT_INJECTION: '1' } });
    try {
      const res = await send({ method: 'GET', url: `${byEnv.url}/retry_tests` });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), { retry_test: [] });
    } finally {
      await byEnv.stop();
    }
  });

  it('ignores the instruction headers and x-retry-test-id', async () => {
    const data = randomData(MiB);
    const name = nextName();
    const faults = {
      'x-goog-emulator-instructions': 'return-503',
      'x-retry-test-id': '0123456789abcdef0123456789abcdef',
    };
    const uri = await initiate(plain.url, bucket, name, { headers: faults });
    const res = await putChunk(uri, `bytes 0-${MiB - 1}/${MiB}`, data, {
      ...faults,
      'x-goog-emulator-instructions': 'return-503-after-256K',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-spool-fault'], undefined);
    const back = await download(plain.url, bucket, name, {
      'x-goog-emulator-instructions': 'return-broken-stream',
    });
    assert.deepEqual(back.body, data);
  });

  it('has no /retry_test resource: 404, as for any XML API path of a bucket that does not exist', async () => {
    const requests = [
      { method: 'POST', url: `${plain.url}/retry_test`, body: '{"instructions":{}}' },
      { method: 'GET', url: `${plain.url}/retry_tests` },
      { method: 'GET', url: `${plain.url}/retry_test/0123456789abcdef0123456789abcdef` },
      { method: 'DELETE', url: `${plain.url}/retry_test/0123456789abcdef0123456789abcdef` },
    ];
    for (const req of requests) {
      const res = await send(req);
      assert.equal(res.status, 404, `${req.method} ${req.url}`);
      assert.match(res.text(), /<Code>NoSuchBucket<\/Code>/);
    }
  });
});
