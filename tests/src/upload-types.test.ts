// The upload surface beyond resumable JSON sessions: simple and multipart uploads, the XML API,
// the X-Goog-Upload-Command protocol, metadata PATCH, compose, conditional reads and --public-url.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CHUNK,
  download,
  md5Base64,
  putChunk,
  query,
  randomData,
  storedBytes,
} from './harness/gcs.js';
import { messageOf, send, sendRaw } from './harness/http.js';
import { SpoolProcess } from './harness/spool-process.js';

let spool: SpoolProcess;
let base: string;
const bucket = 'test-bucket';
const uploadUrl = (q: string) => `${base}/upload/storage/v1/b/${bucket}/o?${q}`;

async function stored(name: string): Promise<Buffer | undefined> {
  const res = await download(base, bucket, name);
  return res.status === 200 ? res.body : undefined;
}

function multipartBody(
  metadata: unknown,
  media: Buffer,
  boundary = 'b0undary',
  mediaType = 'text/plain',
): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(metadata)}\r\n`,
    ),
    Buffer.from(`--${boundary}\r\nContent-Type: ${mediaType}\r\n\r\n`),
    media,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

before(async () => {
  spool = await SpoolProcess.start();
  base = spool.url;
});
after(async () => spool.stop());

describe('uploadType=media', () => {
  it('stores the body as the object, with its Content-Type', async () => {
    const data = randomData(123_456);
    const res = await send({
      method: 'POST',
      url: uploadUrl('uploadType=media&name=media/a.bin'),
      headers: { 'content-type': 'image/png' },
      body: data,
    });
    assert.equal(res.status, 200, res.text());
    assert.equal(res.json()['contentType'], 'image/png');
    assert.equal(res.json()['md5Hash'], md5Base64(data));
    assert.deepEqual(await stored('media/a.bin'), data);
  });

  it('honours preconditions and X-Goog-Hash, keeping nothing when they fail', async () => {
    const first = await send({
      method: 'POST',
      url: uploadUrl('uploadType=media&name=media/once.bin&ifGenerationMatch=0'),
      body: 'one',
    });
    assert.equal(first.status, 200);
    const second = await send({
      method: 'POST',
      url: uploadUrl('uploadType=media&name=media/once.bin&ifGenerationMatch=0'),
      body: 'two',
    });
    assert.equal(second.status, 412);
    const badHash = await send({
      method: 'POST',
      url: uploadUrl('uploadType=media&name=media/hash.bin'),
      headers: { 'x-goog-hash': 'crc32c=AAAAAA==' },
      body: 'data',
    });
    assert.equal(badHash.status, 400);
    assert.match(badHash.text(), /Provided CRC32C/);
    assert.deepEqual(await stored('media/once.bin'), Buffer.from('one'));
    assert.equal(await stored('media/hash.bin'), undefined);
  });

  it('a body cut short leaves nothing behind, not even a temporary file', async () => {
    const path = new URL(uploadUrl('uploadType=media&name=media/cut.bin'));
    const answer = await sendRaw(
      base,
      `POST ${path.pathname}${path.search} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n${'x'.repeat(500)}`,
      300,
    );
    assert.equal(answer, '', 'no answer while the body is incomplete');
    assert.equal(await stored('media/cut.bin'), undefined);
  });
});

describe('uploadType=multipart', () => {
  it('takes metadata from the first part and the media from the second, streamed', async () => {
    const data = randomData(2 * 1024 * 1024 + 3);
    const res = await send({
      method: 'POST',
      url: uploadUrl('uploadType=multipart'),
      headers: { 'content-type': 'multipart/related; boundary=b0undary' },
      body: [
        multipartBody(
          { name: 'multi/a.bin', metadata: { k: 'v' }, contentType: 'application/x-thing' },
          data,
        ).subarray(0, 1000),
        multipartBody(
          { name: 'multi/a.bin', metadata: { k: 'v' }, contentType: 'application/x-thing' },
          data,
        ).subarray(1000),
      ],
    });
    assert.equal(res.status, 200, res.text());
    const object = res.json();
    assert.equal(object['name'], 'multi/a.bin');
    assert.equal(object['contentType'], 'application/x-thing');
    assert.deepEqual(object['metadata'], { k: 'v' });
    assert.deepEqual(await stored('multi/a.bin'), data);
  });

  it('uses the media part Content-Type when the metadata has none, and verifies declared hashes', async () => {
    const ok = await send({
      method: 'POST',
      url: uploadUrl('uploadType=multipart&name=multi/b.txt'),
      headers: { 'content-type': 'multipart/related; boundary=b0undary' },
      body: multipartBody({}, Buffer.from('hello')),
    });
    assert.equal(ok.json()['contentType'], 'text/plain');
    const bad = await send({
      method: 'POST',
      url: uploadUrl('uploadType=multipart&name=multi/c.txt'),
      headers: { 'content-type': 'multipart/related; boundary=b0undary' },
      body: multipartBody({ md5Hash: md5Base64(Buffer.from('other')) }, Buffer.from('hello')),
    });
    assert.equal(bad.status, 400);
    assert.match(bad.text(), /doesn't match calculated MD5 hash/);
  });

  it('refuses malformed bodies with a clear 400 and stores nothing', async () => {
    const good = multipartBody({ name: 'multi/bad.bin' }, Buffer.from('data'));
    const cases: [string, Record<string, string>, Buffer, RegExp][] = [
      ['no boundary', { 'content-type': 'multipart/related' }, good, /no boundary parameter/],
      [
        'form-data',
        { 'content-type': 'multipart/form-data; boundary=b0undary' },
        good,
        /needs Content-Type: multipart\/related/,
      ],
      [
        'truncated',
        { 'content-type': 'multipart/related; boundary=b0undary' },
        good.subarray(0, good.length - 20),
        /without its closing boundary|ended before/,
      ],
      [
        'metadata not JSON',
        { 'content-type': 'multipart/related; boundary=b0undary' },
        Buffer.from(good.toString().replace('{"name":"multi/bad.bin"}', '{nope')),
        /not valid JSON/,
      ],
      [
        'metadata only',
        { 'content-type': 'multipart/related; boundary=b0undary' },
        Buffer.from('--b0undary\r\n\r\n{}\r\n--b0undary--\r\n'),
        /before its media part/,
      ],
      [
        'bad name',
        { 'content-type': 'multipart/related; boundary=b0undary' },
        multipartBody({ name: '../x' }, Buffer.from('d')),
        /path segment/,
      ],
    ];
    for (const [label, headers, body, message] of cases) {
      const res = await send({
        method: 'POST',
        url: uploadUrl('uploadType=multipart'),
        headers,
        body,
      });
      assert.equal(res.status, 400, `${label}: ${res.text()}`);
      assert.match(res.text(), message, label);
    }
    assert.equal(await stored('multi/bad.bin'), undefined);
  });
});

describe('XML API', () => {
  it('x-goog-resumable: start answers 201 with a session; completion has an empty body and x-goog headers', async () => {
    const data = randomData(CHUNK + 99);
    const start = await send({
      method: 'POST',
      url: `${base}/${bucket}/xml/resumable.bin`,
      headers: {
        'x-goog-resumable': 'start',
        'content-type': 'video/mp4',
        'cache-control': 'no-cache',
        'x-goog-meta-owner': 'xml',
      },
    });
    assert.equal(start.status, 201, start.text());
    const session = start.headers.location!;
    assert.match(
      session,
      new RegExp(`^${base}/${bucket}/xml/resumable\\.bin\\?upload_id=[A-Za-z0-9_-]{43}$`),
    );
    assert.equal(
      (await putChunk(session, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK))).status,
      308,
    );
    const done = await putChunk(
      session,
      `bytes ${CHUNK}-${data.length - 1}/${data.length}`,
      data.subarray(CHUNK),
    );
    assert.equal(done.status, 200);
    assert.equal(done.body.length, 0);
    assert.equal(done.headers['x-goog-stored-content-length'], String(data.length));
    assert.equal(
      done.headers['x-goog-hash'],
      `crc32c=${String(done.headers['x-goog-hash']).split(',')[0]!.slice(7)}, md5=${md5Base64(data)}`,
    );
    assert.equal(done.headers.etag, `"${createHash('md5').update(data).digest('hex')}"`);
    const meta = (
      await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o/xml%2Fresumable.bin` })
    ).json();
    assert.equal(meta['contentType'], 'video/mp4');
    assert.equal(meta['cacheControl'], 'no-cache');
    assert.deepEqual(meta['metadata'], { owner: 'xml' });
    const replay = await query(session);
    assert.equal(replay.status, 200);
    assert.equal(replay.body.length, 0);
  });

  it('x-goog-if-generation-match is checked at completion, answered in XML', async () => {
    await send({ method: 'PUT', url: `${base}/${bucket}/xml/guarded.bin`, body: 'first' });
    const start = await send({
      method: 'POST',
      url: `${base}/${bucket}/xml/guarded.bin`,
      headers: { 'x-goog-resumable': 'start', 'x-goog-if-generation-match': '0' },
    });
    assert.equal(start.status, 201);
    const done = await putChunk(start.headers.location!, undefined, Buffer.from('second'));
    assert.equal(done.status, 412);
    assert.match(done.text(), /<Code>PreconditionFailed<\/Code>/);
  });

  it('PUT stores an object (checking Content-MD5); GET, HEAD and DELETE follow', async () => {
    const data = randomData(50_000);
    const put = await send({
      method: 'PUT',
      url: `${base}/${bucket}/xml/put.bin`,
      headers: { 'content-type': 'text/csv', 'content-md5': md5Base64(data) },
      body: data,
    });
    assert.equal(put.status, 200, put.text());
    assert.equal(put.body.length, 0);
    const get = await send({ method: 'GET', url: `${base}/${bucket}/xml/put.bin` });
    assert.deepEqual(get.body, data);
    assert.equal(get.headers['content-type'], 'text/csv');
    assert.equal(get.headers.etag, put.headers.etag);
    const head = await send({ method: 'HEAD', url: `${base}/${bucket}/xml/put.bin` });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '50000');
    assert.equal(head.body.length, 0);
    const wrongMd5 = await send({
      method: 'PUT',
      url: `${base}/${bucket}/xml/put.bin`,
      headers: { 'content-md5': md5Base64(Buffer.from('x')) },
      body: data,
    });
    assert.equal(wrongMd5.status, 400);
    assert.deepEqual(
      (await send({ method: 'GET', url: `${base}/${bucket}/xml/put.bin` })).body,
      data,
      'a refused PUT changes nothing',
    );
    assert.equal(
      (await send({ method: 'DELETE', url: `${base}/${bucket}/xml/put.bin` })).status,
      204,
    );
    const gone = await send({ method: 'GET', url: `${base}/${bucket}/xml/put.bin` });
    assert.equal(gone.status, 404);
    assert.match(
      gone.text(),
      /<Code>NoSuchKey<\/Code><Message>The specified key does not exist\.<\/Message><Details>No such object: test-bucket\/xml\/put\.bin<\/Details>/,
    );
  });

  it('a signed-payload hash that does not match the body is refused', async () => {
    const res = await send({
      method: 'PUT',
      url: `${base}/${bucket}/xml/sha.bin`,
      headers: { 'x-goog-content-sha256': createHash('sha256').update('other').digest('hex') },
      body: 'data',
    });
    assert.equal(res.status, 400);
    assert.match(res.text(), /<Code>BadDigest<\/Code>/);
    const ok = await send({
      method: 'PUT',
      url: `${base}/${bucket}/xml/sha.bin`,
      headers: { 'x-goog-content-sha256': createHash('sha256').update('data').digest('hex') },
      body: 'data',
    });
    assert.equal(ok.status, 200);
  });

  it('refuses POST without x-goog-resumable, and cancels XML sessions with DELETE (499)', async () => {
    const post = await send({ method: 'POST', url: `${base}/${bucket}/xml/form.bin`, body: 'x' });
    assert.equal(post.status, 400);
    assert.match(post.text(), /x-goog-resumable: start/);
    const start = await send({
      method: 'POST',
      url: `${base}/${bucket}/xml/cancel.bin`,
      headers: { 'x-goog-resumable': 'start' },
    });
    assert.equal((await send({ method: 'DELETE', url: start.headers.location! })).status, 499);
    const otherName = start.headers.location!.replace('cancel.bin', 'other.bin');
    assert.equal(
      (await query(otherName)).status,
      404,
      'a session URI only works for its own object',
    );
  });
});

describe('X-Goog-Upload-Command protocol', () => {
  const command = (
    url: string,
    cmd: string,
    headers: Record<string, string | number> = {},
    body: Buffer | string = '',
  ) =>
    send({
      method: 'POST',
      url,
      headers: { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': cmd, ...headers },
      body,
    });

  it('start, upload, query, "upload, finalize"', async () => {
    const data = randomData(CHUNK + 1234);
    const start = await command(
      uploadUrl('name=commands/a.bin'),
      'start',
      {
        'x-goog-upload-header-content-length': data.length,
        'x-goog-upload-header-content-type': 'text/x-c',
        'content-type': 'application/json',
      },
      '{}',
    );
    assert.equal(start.status, 200, start.text());
    assert.equal(start.headers['x-goog-upload-status'], 'active');
    assert.equal(start.headers['x-goog-upload-chunk-granularity'], '262144');
    const url = start.headers['x-goog-upload-url'] as string;
    const up = await command(url, 'upload', { 'x-goog-upload-offset': 0 }, data.subarray(0, CHUNK));
    assert.equal(up.status, 200);
    assert.equal(up.headers['x-goog-upload-status'], 'active');
    assert.equal(up.headers['x-goog-upload-size-received'], String(CHUNK));
    const q = await command(url, 'query');
    assert.equal(q.headers['x-goog-upload-size-received'], String(CHUNK));
    const fin = await command(
      url,
      'upload, finalize',
      { 'x-goog-upload-offset': CHUNK },
      data.subarray(CHUNK),
    );
    assert.equal(fin.status, 200, fin.text());
    assert.equal(fin.headers['x-goog-upload-status'], 'final');
    assert.equal(fin.json()['contentType'], 'text/x-c');
    assert.deepEqual(await stored('commands/a.bin'), data);
  });

  it('finalize with no data, cancel, and errors', async () => {
    const start = await command(uploadUrl('name=commands/b.bin'), 'start');
    const url = start.headers['x-goog-upload-url'] as string;
    await command(url, 'upload', { 'x-goog-upload-offset': 0 }, randomData(CHUNK));
    const gap = await command(
      url,
      'upload',
      { 'x-goog-upload-offset': 3 * CHUNK },
      randomData(CHUNK),
    );
    assert.equal(gap.status, 503);
    assert.match(gap.text(), /exceeds already uploaded size of 262144/);
    const fin = await command(url, 'finalize', { 'x-goog-upload-offset': CHUNK });
    assert.equal(fin.headers['x-goog-upload-status'], 'final');
    assert.equal(fin.json()['size'], String(CHUNK));

    const other = (await command(uploadUrl('name=commands/c.bin'), 'start')).headers[
      'x-goog-upload-url'
    ] as string;
    assert.equal((await command(other, 'cancel')).headers['x-goog-upload-status'], 'cancelled');
    assert.equal((await command(other, 'query')).headers['x-goog-upload-status'], 'cancelled');
    const unknown = await command(other, 'rewind');
    assert.equal(unknown.status, 400);
    const noOffset = await command(
      (await command(uploadUrl('name=commands/d.bin'), 'start')).headers[
        'x-goog-upload-url'
      ] as string,
      'upload',
      {},
      'x',
    );
    assert.equal(noOffset.status, 400);
    assert.match(noOffset.text(), /needs X-Goog-Upload-Offset/);
  });
});

describe('metadata PATCH', () => {
  const url = () => `${base}/storage/v1/b/${bucket}/o/patch.bin`;
  before(async () => {
    await send({
      method: 'POST',
      url: uploadUrl('uploadType=multipart'),
      headers: { 'content-type': 'multipart/related; boundary=b0undary' },
      body: multipartBody(
        { name: 'patch.bin', cacheControl: 'max-age=1', metadata: { a: '1', b: '2' } },
        Buffer.from('x'),
      ),
    });
  });

  it('sets, clears and merges fields; the metageneration grows', async () => {
    const res = await send({
      method: 'PATCH',
      url: url(),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        cacheControl: null,
        contentLanguage: 'fr',
        metadata: { a: null, c: '3' },
      }),
    });
    assert.equal(res.status, 200, res.text());
    const object = res.json();
    assert.equal(object['cacheControl'], undefined);
    assert.equal(object['contentLanguage'], 'fr');
    assert.deepEqual(object['metadata'], { b: '2', c: '3' });
    assert.equal(object['metageneration'], '2');
  });

  it('honours ifMetagenerationMatch and refuses bad bodies', async () => {
    const stale = await send({
      method: 'PATCH',
      url: `${url()}?ifMetagenerationMatch=1`,
      body: '{"contentType":"a/b"}',
    });
    assert.equal(stale.status, 412);
    for (const body of ['[1]', '{"contentType":5}', '{"metadata":"x"}', '{nope']) {
      assert.equal((await send({ method: 'PATCH', url: url(), body })).status, 400, body);
    }
    assert.equal(
      (
        await send({
          method: 'PATCH',
          url: `${base}/storage/v1/b/${bucket}/o/missing.bin`,
          body: '{}',
        })
      ).status,
      404,
    );
  });
});

describe('compose', () => {
  const composeUrl = (name: string, q = '') =>
    `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}/compose${q}`;
  const media = async (name: string, body: Buffer) =>
    send({
      method: 'POST',
      url: uploadUrl(`uploadType=media&name=${encodeURIComponent(name)}`),
      body,
    });

  it('concatenates sources; the result has a CRC32C, no MD5, and a component count', async () => {
    const a = randomData(1000);
    const b = randomData(2000);
    await media('parts/a', a);
    await media('parts/b', b);
    const res = await send({
      method: 'POST',
      url: composeUrl('parts/ab'),
      body: JSON.stringify({
        sourceObjects: [{ name: 'parts/a' }, { name: 'parts/b' }],
        destination: { contentType: 'text/plain' },
      }),
    });
    assert.equal(res.status, 200, res.text());
    assert.equal(res.json()['componentCount'], 2);
    assert.equal(res.json()['md5Hash'], undefined);
    assert.deepEqual(await stored('parts/ab'), Buffer.concat([a, b]));
    const again = await send({
      method: 'POST',
      url: composeUrl('parts/aba'),
      body: JSON.stringify({ sourceObjects: [{ name: 'parts/ab' }, { name: 'parts/a' }] }),
    });
    assert.equal(again.json()['componentCount'], 3);
  });

  it('refuses missing or too many sources, unknown sources and failed source preconditions', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /needs sourceObjects/],
      [
        { sourceObjects: Array.from({ length: 33 }, () => ({ name: 'parts/a' })) },
        400,
        /at most 32/,
      ],
      [{ sourceObjects: [{ name: 'parts/none' }] }, 404, /No such object/],
      [
        { sourceObjects: [{ name: 'parts/a', objectPreconditions: { ifGenerationMatch: '1' } }] },
        412,
        /pre-conditions/,
      ],
      [{ sourceObjects: [{ name: 5 }] }, 400, /needs a "name"/],
    ];
    for (const [body, status, message] of cases) {
      const res = await send({
        method: 'POST',
        url: composeUrl('parts/bad'),
        body: JSON.stringify(body),
      });
      assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
      assert.match(messageOf(res), message);
    }
    assert.equal(await stored('parts/bad'), undefined);
  });
});

describe('conditional and ranged reads', () => {
  it('If-None-Match gives 304, If-Match a 412', async () => {
    await send({
      method: 'POST',
      url: uploadUrl('uploadType=media&name=cond.bin'),
      body: 'conditional',
    });
    const first = await send({
      method: 'GET',
      url: `${base}/storage/v1/b/${bucket}/o/cond.bin?alt=media`,
    });
    const etag = String(first.headers.etag);
    assert.equal(
      (
        await send({
          method: 'GET',
          url: `${base}/storage/v1/b/${bucket}/o/cond.bin?alt=media`,
          headers: { 'if-none-match': etag },
        })
      ).status,
      304,
    );
    assert.equal(
      (
        await send({
          method: 'GET',
          url: `${base}/storage/v1/b/${bucket}/o/cond.bin?alt=media`,
          headers: { 'if-none-match': '"other"' },
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await send({
          method: 'GET',
          url: `${base}/storage/v1/b/${bucket}/o/cond.bin?alt=media`,
          headers: { 'if-match': '"other"' },
        })
      ).status,
      412,
    );
    assert.equal(
      (
        await send({
          method: 'GET',
          url: `${base}/${bucket}/cond.bin`,
          headers: { 'if-none-match': '*' },
        })
      ).status,
      304,
    );
  });
});

describe('paths and public URL', () => {
  it('/resumable/upload/storage/v1/… works like /upload/storage/v1/…', async () => {
    const start = await send({
      method: 'POST',
      url: `${base}/resumable/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=alt-path.bin`,
    });
    assert.equal(start.status, 200);
    assert.match(start.headers.location!, /\/resumable\/upload\/storage\/v1\/b\/test-bucket\/o\?/);
    assert.equal(
      (await putChunk(start.headers.location!, undefined, Buffer.from('x'))).status,
      200,
    );
  });

  it('--public-url is used for Location, selfLink and mediaLink', async () => {
    const proxied = await SpoolProcess.start({
      args: ['--public-url', 'https://files.example.com/'],
    });
    try {
      const start = await send({
        method: 'POST',
        url: `${proxied.url}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=p.bin`,
      });
      assert.match(
        start.headers.location!,
        /^https:\/\/files\.example\.com\/upload\/storage\/v1\/b\/test-bucket\/o\?uploadType=resumable&name=p\.bin&upload_id=/,
      );
      const session = start.headers.location!.replace('https://files.example.com', proxied.url);
      const object = (await putChunk(session, undefined, Buffer.from('p'))).json();
      assert.equal(
        object['selfLink'],
        'https://files.example.com/storage/v1/b/test-bucket/o/p.bin',
      );
      assert.match(
        String(object['mediaLink']),
        /^https:\/\/files\.example\.com\/download\/storage\/v1\/b\/test-bucket\/o\/p\.bin\?generation=\d+&alt=media$/,
      );
      assert.equal(
        storedBytes(await query(session)),
        0,
        'a completed session answers its object, not a Range',
      );
    } finally {
      await proxied.stop();
    }
  });
});
