// Every row of the server's decision table and every Content-Range form, over real HTTP against
// a real `spool serve` (docs/protocol.md lists the table).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CHUNK,
  KiB,
  MiB,
  download,
  initiate,
  initiateRaw,
  md5Base64,
  putChunk,
  query,
  randomData,
  storedBytes,
} from './harness/gcs.js';
import { send, sendAndCut } from './harness/http.js';
import { SpoolProcess } from './harness/spool-process.js';

const GAP_503 = (offset: number, persisted: number) =>
  `Invalid request.  According to the Content-Range header, the upload offset is ${offset} byte(s), which exceeds already uploaded size of ${persisted} byte(s).`;
const SMALL_CHUNK_400 = (n: number) =>
  `Invalid request.  The number of bytes uploaded is required to be equal or greater than 262144, except for the final request (it's recommended to be the exact multiple of 262144).  The received request contained ${n} bytes, which does not meet this requirement.`;

let spool: SpoolProcess;
let base: string;
let counter = 0;
const bucket = 'test-bucket';
const nextName = () => `protocol/object-${++counter}.bin`;

async function readBack(name: string): Promise<Buffer> {
  const res = await download(base, bucket, name);
  assert.equal(res.status, 200, res.text());
  return res.body;
}

before(async () => {
  spool = await SpoolProcess.start();
  base = spool.url;
});
after(async () => spool.stop());

describe('initiation', () => {
  it('answers 200 with an empty body, a Location that repeats the query and adds upload_id, and X-GUploader-UploadID', async () => {
    const res = await initiateRaw(base, bucket, 'init/a.txt', {
      query: '&ifGenerationMatch=0&predefinedAcl=private',
      headers: { 'x-upload-content-type': 'text/plain', 'x-upload-content-length': 5 },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
    const location = new URL(res.headers.location!);
    assert.equal(`${location.protocol}//${location.host}`, base);
    assert.equal(location.pathname, `/upload/storage/v1/b/${bucket}/o`);
    assert.equal(location.searchParams.get('uploadType'), 'resumable');
    assert.equal(location.searchParams.get('name'), 'init/a.txt');
    assert.equal(location.searchParams.get('ifGenerationMatch'), '0');
    assert.equal(location.searchParams.get('predefinedAcl'), 'private');
    const id = location.searchParams.get('upload_id')!;
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(res.headers['x-guploader-uploadid'], id);
    const done = await putChunk(res.headers.location!, undefined, Buffer.from('hello'));
    assert.equal(done.status, 200);
    assert.equal(done.json()['contentType'], 'text/plain');
  });

  it('takes the object name and metadata from the JSON body', async () => {
    const res = await initiateRaw(base, bucket, undefined, {
      body: {
        name: 'init/from-body.txt',
        contentType: 'text/csv',
        metadata: { owner: 'spool' },
        cacheControl: 'no-cache',
      },
    });
    assert.equal(res.status, 200, res.text());
    const done = await putChunk(res.headers.location!, 'bytes 0-2/3', Buffer.from('a,b'));
    const object = done.json();
    assert.equal(object['name'], 'init/from-body.txt');
    assert.equal(object['contentType'], 'text/csv');
    assert.deepEqual(object['metadata'], { owner: 'spool' });
    assert.equal(object['cacheControl'], 'no-cache');
  });

  it('refuses a body name that disagrees with the query name, and a missing name', async () => {
    const mismatch = await initiateRaw(base, bucket, 'one', { body: { name: 'two' } });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.text(), /Value 'two' in content does not agree with value 'one'/);
    const missing = await initiateRaw(base, bucket, undefined);
    assert.equal(missing.status, 400);
    assert.match(missing.text(), /No object name/);
  });

  it('answers 404 for an unknown bucket', async () => {
    const res = await initiateRaw(base, 'no-such-bucket', 'x');
    assert.equal(res.status, 404);
    assert.equal(
      res.json<{ error: { message: string } }>().error.message,
      'The specified bucket does not exist.',
    );
  });
});

describe('Content-Range forms', () => {
  it('bytes a-b/* (non-final) then bytes a-b/N (final)', async () => {
    const data = randomData(CHUNK + 1000);
    const uri = await initiate(base, bucket, 'forms/ab.bin');
    const first = await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK));
    assert.equal(first.status, 308);
    assert.equal(first.statusMessage, 'Resume Incomplete');
    assert.equal(first.headers.range, `bytes=0-${CHUNK - 1}`);
    assert.equal(first.body.length, 0);
    const last = await putChunk(
      uri,
      `bytes ${CHUNK}-${data.length - 1}/${data.length}`,
      data.subarray(CHUNK),
    );
    assert.equal(last.status, 200);
    assert.equal(last.json()['size'], String(data.length));
    assert.deepEqual(await readBack('forms/ab.bin'), data);
  });

  it('bytes a-*/N: the body is the rest of the object (single request)', async () => {
    const data = randomData(3 * CHUNK + 17);
    const uri = await initiate(base, bucket, 'forms/a-star-n.bin');
    const res = await send({
      method: 'PUT',
      url: uri,
      headers: { 'content-range': `bytes 0-*/${data.length}` },
      body: [data.subarray(0, 1000), data.subarray(1000)],
    });
    assert.equal(res.status, 200, res.text());
    assert.deepEqual(await readBack('forms/a-star-n.bin'), data);
  });

  it('bytes a-*/*: the object ends where the body ends (chunked encoding, size unknown)', async () => {
    const data = randomData(2 * CHUNK + 5);
    const uri = await initiate(base, bucket, 'forms/a-star-star.bin');
    const res = await send({
      method: 'PUT',
      url: uri,
      headers: { 'content-range': 'bytes 0-*/*' },
      body: [data.subarray(0, CHUNK), data.subarray(CHUNK)],
    });
    assert.equal(res.status, 200, res.text());
    assert.deepEqual(await readBack('forms/a-star-star.bin'), data);
  });

  it('bytes */* is a pure status query; bytes */N with N stored finalizes', async () => {
    const data = randomData(2 * CHUNK);
    const uri = await initiate(base, bucket, 'forms/star-n.bin');
    const empty = await query(uri);
    assert.equal(empty.status, 308);
    assert.equal(empty.headers.range, undefined, 'no Range header while nothing is stored');
    await putChunk(uri, `bytes 0-${data.length - 1}/*`, data);
    const status = await query(uri);
    assert.equal(status.status, 308);
    assert.equal(storedBytes(status), data.length);
    const wrongTotal = await query(uri, String(data.length + 1));
    assert.equal(wrongTotal.status, 308, 'bytes */N with N != stored only reports');
    const finished = await query(uri, String(data.length));
    assert.equal(finished.status, 200);
    assert.equal(finished.json()['size'], String(data.length));
    assert.deepEqual(await readBack('forms/star-n.bin'), data);
  });

  it('no Content-Range: the body is the whole object', async () => {
    const data = randomData(12345);
    const uri = await initiate(base, bucket, 'forms/none.bin');
    const res = await putChunk(uri, undefined, data);
    assert.equal(res.status, 200);
    assert.deepEqual(await readBack('forms/none.bin'), data);
  });

  it('an empty object is finalized with bytes */0', async () => {
    const uri = await initiate(base, bucket, 'forms/empty.bin');
    const res = await query(uri, '0');
    assert.equal(res.status, 200);
    assert.equal(res.json()['size'], '0');
    assert.equal(res.json()['md5Hash'], md5Base64(Buffer.alloc(0)));
    assert.equal((await readBack('forms/empty.bin')).length, 0);
  });

  it('POST to the session URI works like PUT', async () => {
    const data = randomData(CHUNK + 3);
    const uri = await initiate(base, bucket, 'forms/post.bin');
    const a = await send({
      method: 'POST',
      url: uri,
      headers: { 'content-range': `bytes 0-${CHUNK - 1}/*` },
      body: data.subarray(0, CHUNK),
    });
    assert.equal(a.status, 308);
    const b = await send({
      method: 'POST',
      url: uri,
      headers: { 'content-range': `bytes ${CHUNK}-${data.length - 1}/${data.length}` },
      body: data.subarray(CHUNK),
    });
    assert.equal(b.status, 200);
    assert.deepEqual(await readBack('forms/post.bin'), data);
  });

  it('malformed Content-Range: 400 "Failed to parse Content-Range header." as text', async () => {
    const uri = await initiate(base, bucket, nextName());
    for (const bad of [
      'bytes 5-4/10',
      'bytes 0-10/10',
      'bytes=0-1/2',
      'items 0-1/2',
      'bytes 0-1',
      'bytes -1-2/3',
      'bytes 99999999999999999-1/*',
    ]) {
      const res = await putChunk(uri, bad, Buffer.alloc(2));
      assert.equal(res.status, 400, bad);
      assert.equal(res.text(), 'Failed to parse Content-Range header.', bad);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
    }
    assert.equal((await query(uri)).headers.range, undefined, 'nothing was stored');
  });
});

describe('offsets', () => {
  it('a chunk that starts past the stored size gets GCS 503 text, word for word', async () => {
    const uri = await initiate(base, bucket, nextName());
    await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, randomData(CHUNK));
    const res = await putChunk(uri, `bytes ${2 * CHUNK}-${3 * CHUNK - 1}/*`, randomData(CHUNK));
    assert.equal(res.status, 503);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.text(), GAP_503(2 * CHUNK, CHUNK));
    assert.equal(storedBytes(await query(uri)), CHUNK);
  });

  it('resent bytes before the stored size are skipped, never duplicated', async () => {
    const data = randomData(3 * CHUNK);
    const name = nextName();
    const uri = await initiate(base, bucket, name);
    await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK));
    const overlap = await putChunk(uri, `bytes 0-${2 * CHUNK - 1}/*`, data.subarray(0, 2 * CHUNK));
    assert.equal(overlap.headers.range, `bytes=0-${2 * CHUNK - 1}`);
    const duplicate = await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK));
    assert.equal(duplicate.status, 308);
    assert.equal(duplicate.headers.range, `bytes=0-${2 * CHUNK - 1}`);
    const last = await putChunk(
      uri,
      `bytes ${CHUNK}-${data.length - 1}/${data.length}`,
      data.subarray(CHUNK),
    );
    assert.equal(last.status, 200);
    assert.deepEqual(await readBack(name), data);
  });

  it('a non-final chunk that is not a multiple of 256 KiB keeps only its aligned prefix', async () => {
    const data = randomData(300_000);
    const uri = await initiate(base, bucket, nextName());
    const res = await putChunk(uri, `bytes 0-${data.length - 1}/*`, data);
    assert.equal(res.status, 308);
    assert.equal(res.headers.range, `bytes=0-${CHUNK - 1}`);
  });

  it('a non-final chunk under 256 KiB is a 400 that fails the session for good', async () => {
    const uri = await initiate(base, bucket, nextName());
    const res = await putChunk(uri, 'bytes 0-1023/*', randomData(1024));
    assert.equal(res.status, 400);
    assert.equal(res.text(), SMALL_CHUNK_400(1024));
    const retry = await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, randomData(CHUNK));
    assert.equal(retry.status, 400, 'the failure is replayed');
    assert.equal(retry.text(), SMALL_CHUNK_400(1024));
  });

  it('a final chunk may be any size', async () => {
    const data = randomData(CHUNK + 1);
    const uri = await initiate(base, bucket, nextName());
    await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK));
    const res = await putChunk(uri, `bytes ${CHUNK}-${CHUNK}/${CHUNK + 1}`, data.subarray(CHUNK));
    assert.equal(res.status, 200);
  });

  it('a total that changes between chunks is refused', async () => {
    const uri = await initiate(base, bucket, nextName());
    await putChunk(uri, `bytes 0-${CHUNK - 1}/${4 * CHUNK}`, randomData(CHUNK));
    const res = await putChunk(
      uri,
      `bytes ${CHUNK}-${2 * CHUNK - 1}/${5 * CHUNK}`,
      randomData(CHUNK),
    );
    assert.equal(res.status, 400);
    assert.match(
      res.text(),
      /total size of 1310720 byte\(s\), but an earlier request gave 1048576/,
    );
    assert.equal(storedBytes(await query(uri)), CHUNK);
  });

  it('a body longer or shorter than its range is refused and nothing is kept', async () => {
    const uri = await initiate(base, bucket, nextName());
    const longer = await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, randomData(CHUNK + 10));
    assert.equal(longer.status, 400);
    assert.match(
      longer.text(),
      /body contained 262154 byte\(s\), but the Content-Range header announced 262144/,
    );
    const shorterChunked = await send({
      method: 'PUT',
      url: uri,
      headers: { 'content-range': `bytes 0-${2 * CHUNK - 1}/*` },
      body: [randomData(CHUNK), randomData(100)],
    });
    assert.equal(shorterChunked.status, 400);
    assert.equal((await query(uri)).headers.range, undefined);
  });
});

/**
 * Opens a raw connection and sends the head of a PUT of the whole object (`size` bytes) on the
 * session: the caller writes the body, or part of it, and decides how the connection ends.
 */
async function startWholePut(uri: string, size: number): Promise<Socket> {
  const target = new URL(uri);
  const socket = connect(Number(target.port), target.hostname);
  await new Promise((r) => socket.once('connect', r));
  socket.on('error', () => undefined);
  socket.write(
    `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Range: bytes 0-${size - 1}/${size}\r\nContent-Length: ${size}\r\n\r\n`,
  );
  return socket;
}

describe('partial bodies', () => {
  it('a connection cut mid-chunk keeps the 256 KiB-aligned prefix it delivered', async () => {
    const data = randomData(4 * CHUNK);
    const name = nextName();
    const uri = await initiate(base, bucket, name);
    await sendAndCut(
      uri,
      'PUT',
      {
        'content-range': `bytes 0-${data.length - 1}/${data.length}`,
        'content-length': data.length,
      },
      data,
      2 * CHUNK + 1000,
    );
    const status = await query(uri);
    assert.equal(status.status, 308);
    assert.equal(storedBytes(status), 2 * CHUNK);
    const rest = await putChunk(
      uri,
      `bytes ${2 * CHUNK}-${data.length - 1}/${data.length}`,
      data.subarray(2 * CHUNK),
    );
    assert.equal(rest.status, 200);
    assert.deepEqual(await readBack(name), data);
  });

  it('a newer request on a busy session makes the older one stop and persist what it has', async () => {
    const data = randomData(4 * CHUNK);
    const uri = await initiate(base, bucket, nextName());
    const socket = await startWholePut(uri, data.length);
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.write(data.subarray(0, CHUNK + 5000));
    await new Promise((r) => setTimeout(r, 300));
    // The first connection is still open and silent, like a client whose network stalled.
    const status = await query(uri);
    assert.equal(status.status, 308);
    assert.equal(storedBytes(status), CHUNK);
    await new Promise((r) => setTimeout(r, 100));
    assert.match(answer, /^HTTP\/1.1 503/);
    assert.match(
      answer,
      /newer request arrived on the same upload session; 262144 byte\(s\) are stored/,
    );
    socket.destroy();
  });

  it('a newer request first takes the bytes that reached the server before the older connection closed', async () => {
    // The client's retry after a cut arrives while the server still reads what the cut
    // connection delivered (MiBs in socket buffers): those bytes are kept, not sent again.
    const sent = 128 * CHUNK;
    const data = randomData(2 * sent);
    const uri = await initiate(base, bucket, nextName());
    const socket = await startWholePut(uri, data.length);
    await new Promise((r) => socket.end(data.subarray(0, sent), () => r(undefined)));
    const status = await query(uri);
    assert.equal(status.status, 308);
    assert.equal(storedBytes(status), sent);
    const rest = await putChunk(
      uri,
      `bytes ${sent}-${data.length - 1}/${data.length}`,
      data.subarray(sent),
    );
    assert.equal(rest.status, 200);
  });
});

describe('completion', () => {
  it('returns the object resource: 64-bit numbers as strings, hashes, timestamps, absolute links', async () => {
    const data = randomData(1000);
    const name = 'completion/resource with spaces/ü.bin';
    const uri = await initiate(base, bucket, name);
    const object = (await putChunk(uri, 'bytes 0-999/1000', data)).json();
    assert.equal(object['kind'], 'storage#object');
    assert.equal(object['size'], '1000');
    assert.equal(object['metageneration'], '1');
    assert.match(String(object['generation']), /^\d{16}$/);
    assert.equal(object['md5Hash'], md5Base64(data));
    assert.match(String(object['crc32c']), /^[A-Za-z0-9+/]{6}==$/);
    assert.equal(object['storageClass'], 'STANDARD');
    assert.ok(!Number.isNaN(Date.parse(String(object['timeCreated']))));
    assert.equal(object['id'], `${bucket}/${name}/${String(object['generation'])}`);
    assert.equal(
      object['selfLink'],
      `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`,
    );
    assert.equal('metadata' in object, false);
    const media = await send({ method: 'GET', url: String(object['mediaLink']) });
    assert.deepEqual(media.body, data, 'mediaLink is absolute and serves the bytes');
  });

  it('replays the completion to later requests, of any kind', async () => {
    const data = randomData(10);
    const uri = await initiate(base, bucket, nextName());
    const done = (await putChunk(uri, 'bytes 0-9/10', data)).json();
    for (const res of [
      await query(uri),
      await putChunk(uri, 'bytes 0-9/10', data),
      await query(uri, '10'),
    ]) {
      assert.equal(res.status, 200);
      assert.equal(res.json()['generation'], done['generation'], 'never a new generation');
    }
    const cancel = await send({ method: 'DELETE', url: uri });
    assert.equal(cancel.status, 200, 'a completed upload cannot be cancelled');
  });

  it('completes early when X-Upload-Content-Length is reached by a bytes a-b/* chunk', async () => {
    const data = randomData(CHUNK);
    const uri = await initiate(base, bucket, nextName(), {
      headers: { 'x-upload-content-length': CHUNK },
    });
    const res = await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, data);
    assert.equal(res.status, 200);
  });

  it('refuses a final size that differs from X-Upload-Content-Length', async () => {
    const uri = await initiate(base, bucket, nextName(), {
      headers: { 'x-upload-content-length': 11 },
    });
    const res = await putChunk(uri, 'bytes 0-9/10', randomData(10));
    assert.equal(res.status, 400);
    assert.match(res.text(), /X-Upload-Content-Length declared 11 byte\(s\)/);
  });

  it('verifies X-Goog-Hash on the final request with GCS wording', async () => {
    const data = Buffer.from('hello world');
    const uri = await initiate(base, bucket, nextName());
    const res = await putChunk(uri, 'bytes 0-10/11', data, { 'x-goog-hash': 'crc32c=AAAAAA==' });
    assert.equal(res.status, 400);
    assert.equal(
      res.json<{ error: { message: string } }>().error.message,
      'Provided CRC32C "AAAAAA==" doesn\'t match calculated CRC32C "yZRlqg==".',
    );
    const again = await putChunk(uri, 'bytes 0-10/11', data);
    assert.equal(again.status, 400, 'the session failed for good');

    const good = await initiate(base, bucket, nextName());
    const ok = await putChunk(good, 'bytes 0-10/11', data, {
      'x-goog-hash': `crc32c=yZRlqg==,md5=${md5Base64(data)}`,
    });
    assert.equal(ok.status, 200);
    const badMd5 = await initiate(base, bucket, nextName());
    const md5Res = await putChunk(badMd5, 'bytes 0-10/11', data, {
      'x-goog-hash': `md5=${md5Base64(Buffer.from('x'))}`,
    });
    assert.equal(md5Res.status, 400);
    assert.match(
      md5Res.json<{ error: { message: string } }>().error.message,
      /^Provided MD5 hash ".*" doesn't match calculated MD5 hash ".*"\.$/,
    );
  });

  it('verifies hashes declared in the initiation body', async () => {
    const data = randomData(100);
    const uri = await initiate(base, bucket, nextName(), {
      body: { md5Hash: md5Base64(Buffer.from('other')) },
    });
    const res = await putChunk(uri, 'bytes 0-99/100', data);
    assert.equal(res.status, 400);
    assert.match(res.text(), /doesn't match calculated MD5 hash/);
  });

  it('checks preconditions at completion (412), not at initiation', async () => {
    const name = nextName();
    const first = await initiate(base, bucket, name, { query: '&ifGenerationMatch=0' });
    const made = (await putChunk(first, 'bytes 0-0/1', Buffer.from('1'))).json();
    const second = await initiate(base, bucket, name, { query: '&ifGenerationMatch=0' });
    const refused = await putChunk(second, 'bytes 0-0/1', Buffer.from('2'));
    assert.equal(refused.status, 412);
    assert.match(refused.text(), /pre-conditions you specified did not hold/);
    const third = await initiate(base, bucket, name, {
      query: `&ifGenerationMatch=${String(made['generation'])}`,
    });
    const replaced = await putChunk(third, 'bytes 0-0/1', Buffer.from('3'));
    assert.equal(replaced.status, 200);
    assert.ok(BigInt(String(replaced.json()['generation'])) > BigInt(String(made['generation'])));
    assert.deepEqual(await readBack(name), Buffer.from('3'));
  });

  it('a completed upload replaces the object and adds X-Goog-Meta-* from the final request', async () => {
    const name = nextName();
    await putChunk(await initiate(base, bucket, name), undefined, Buffer.from('old'));
    const uri = await initiate(base, bucket, name, { body: { metadata: { a: '1' } } });
    const res = await putChunk(uri, undefined, Buffer.from('new'), { 'x-goog-meta-b': '2' });
    assert.deepEqual(res.json()['metadata'], { a: '1', b: '2' });
    assert.deepEqual(await readBack(name), Buffer.from('new'));
  });
});

describe('X-GUploader-No-308', () => {
  it('answers 200 with X-Http-Status-Code-Override: 308 and the Range', async () => {
    const uri = await initiate(base, bucket, nextName());
    const res = await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, randomData(CHUNK), {
      'x-guploader-no-308': 'yes',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-http-status-code-override'], '308');
    assert.equal(res.headers.range, `bytes=0-${CHUNK - 1}`);
    const q = await send({
      method: 'PUT',
      url: uri,
      headers: { 'content-range': 'bytes */*', 'x-guploader-no-308': 'yes' },
    });
    assert.equal(q.status, 200);
    assert.equal(q.headers['x-http-status-code-override'], '308');
  });
});

describe('cancel and expiry', () => {
  it('DELETE answers 499; later requests get a 4xx', async () => {
    const uri = await initiate(base, bucket, nextName());
    await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, randomData(CHUNK));
    const res = await send({ method: 'DELETE', url: uri });
    assert.equal(res.status, 499);
    assert.equal(res.body.length, 0);
    const later = await putChunk(uri, `bytes ${CHUNK}-${2 * CHUNK - 1}/*`, randomData(CHUNK));
    assert.equal(later.status, 410);
    assert.match(later.text(), /cancelled/);
    assert.equal(
      (await send({ method: 'DELETE', url: uri })).status,
      499,
      'cancelling twice is harmless',
    );
  });

  it('unknown and malformed session IDs get 404', async () => {
    const uri = await initiate(base, bucket, nextName());
    const u = new URL(uri);
    for (const id of [
      'x',
      'A'.repeat(43),
      u.searchParams.get('upload_id')!.slice(0, 42),
      '../../etc/passwd',
    ]) {
      u.searchParams.set('upload_id', id);
      const res = await query(u.toString());
      assert.equal(res.status, 404, id);
      assert.match(res.text(), /No such upload session/);
    }
  });

  it('a session expires after --session-ttl and answers 404', async () => {
    const short = await SpoolProcess.start({ args: ['--session-ttl', '1s'] });
    try {
      const uri = await initiate(short.url, bucket, 'expiring.bin');
      assert.equal((await query(uri)).status, 308);
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal((await query(uri)).status, 404);
    } finally {
      await short.stop();
    }
  });
});

describe('large single request', () => {
  it('streams 64 MiB in one PUT and hashes it right', async () => {
    const data = randomData(64 * MiB);
    const name = nextName();
    const uri = await initiate(base, bucket, name);
    const res = await putChunk(uri, `bytes 0-${data.length - 1}/${data.length}`, data);
    assert.equal(res.status, 200);
    assert.equal(res.json()['md5Hash'], md5Base64(data));
    const back = await readBack(name);
    assert.equal(
      createHash('sha256').update(back).digest('hex'),
      createHash('sha256').update(data).digest('hex'),
    );
  });
});
void KiB;
