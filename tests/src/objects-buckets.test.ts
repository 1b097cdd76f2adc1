// Object and bucket calls around uploads: metadata, media with Range, listing, deletion, buckets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CHUNK, initiate, putChunk, query, randomData } from './harness/gcs.js';
import { messageOf, send } from './harness/http.js';
import { SpoolProcess } from './harness/spool-process.js';

let spool: SpoolProcess;
let base: string;
const bucket = 'test-bucket';
const data = randomData(10_000);

async function upload(
  name: string,
  body: Buffer,
  target = bucket,
): Promise<Record<string, unknown>> {
  const res = await putChunk(await initiate(base, target, name), undefined, body);
  assert.equal(res.status, 200, res.text());
  return res.json();
}

before(async () => {
  spool = await SpoolProcess.start();
  base = spool.url;
  await upload('data.bin', data);
});
after(async () => spool.stop());

describe('object reads', () => {
  it('serves metadata as the object resource', async () => {
    const res = await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o/data.bin` });
    assert.equal(res.status, 200);
    assert.equal(res.json()['size'], '10000');
  });

  it('serves the bytes with the GCS download headers', async () => {
    const res = await send({
      method: 'GET',
      url: `${base}/storage/v1/b/${bucket}/o/data.bin?alt=media`,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, data);
    assert.equal(res.headers['x-goog-stored-content-length'], '10000');
    assert.match(String(res.headers['x-goog-hash']), /crc32c=.+, md5=.+/);
    assert.match(String(res.headers['x-goog-generation']), /^\d+$/);
    assert.equal(res.headers['accept-ranges'], 'bytes');
  });

  it('serves single ranges, open ranges and suffix ranges with 206', async () => {
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=9990-', 9990, 9999],
      ['bytes=-10', 9990, 9999],
      ['bytes=5000-999999', 5000, 9999],
    ];
    for (const [range, start, end] of cases) {
      const res = await send({
        method: 'GET',
        url: `${base}/download/storage/v1/b/${bucket}/o/data.bin?alt=media`,
        headers: { range },
      });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/10000`, range);
      assert.deepEqual(res.body, data.subarray(start, end + 1), range);
    }
  });

  it('honours generation and generation preconditions', async () => {
    const object = await upload('gen.bin', Buffer.from('x'));
    const gen = String(object['generation']);
    const ok = await send({
      method: 'GET',
      url: `${base}/storage/v1/b/${bucket}/o/gen.bin?generation=${gen}`,
    });
    assert.equal(ok.status, 200);
    const stale = await send({
      method: 'GET',
      url: `${base}/storage/v1/b/${bucket}/o/gen.bin?generation=1`,
    });
    assert.equal(stale.status, 404);
    assert.match(stale.text(), /No such object: test-bucket\/gen.bin/);
    const mismatch = await send({
      method: 'GET',
      url: `${base}/storage/v1/b/${bucket}/o/gen.bin?ifGenerationMatch=1`,
    });
    assert.equal(mismatch.status, 412);
  });

  it('deletes objects; a second delete is a 404', async () => {
    await upload('doomed.bin', Buffer.from('x'));
    assert.equal(
      (await send({ method: 'DELETE', url: `${base}/storage/v1/b/${bucket}/o/doomed.bin` })).status,
      204,
    );
    assert.equal(
      (await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o/doomed.bin` })).status,
      404,
    );
    assert.equal(
      (await send({ method: 'DELETE', url: `${base}/storage/v1/b/${bucket}/o/doomed.bin` })).status,
      404,
    );
  });
});

describe('listing', () => {
  const names = ['l/a', 'l/b/1', 'l/b/2', 'l/c/', 'l/d', 'l/😀', 'l/ｚ'];
  before(async () => {
    for (const n of names) await upload(n, Buffer.from(n));
  });

  const list = async (q: string) => {
    const res = await send({ method: 'GET', url: `${base}/storage/v1/b/${bucket}/o?${q}` });
    assert.equal(res.status, 200, res.text());
    return res.json<{ items?: { name: string }[]; prefixes?: string[]; nextPageToken?: string }>();
  };

  it('lists in UTF-8 byte order, with prefix', async () => {
    const page = await list('prefix=l/');
    assert.deepEqual(
      page.items?.map((i) => i.name),
      ['l/a', 'l/b/1', 'l/b/2', 'l/c/', 'l/d', 'l/ｚ', 'l/😀'],
    );
  });

  it('collapses names under a delimiter into prefixes', async () => {
    const page = await list('prefix=l/&delimiter=/');
    assert.deepEqual(
      page.items?.map((i) => i.name),
      ['l/a', 'l/d', 'l/ｚ', 'l/😀'],
    );
    assert.deepEqual(page.prefixes, ['l/b/', 'l/c/']);
    const trailing = await list('prefix=l/&delimiter=/&includeTrailingDelimiter=true');
    assert.ok(trailing.items?.some((i) => i.name === 'l/c/'));
  });

  it('pages with maxResults and pageToken, counting prefixes, without repeats or gaps', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await list(
        `prefix=l/&delimiter=/&maxResults=2${token ? `&pageToken=${token}` : ''}`,
      );
      seen.push(...(page.items ?? []).map((i) => i.name), ...(page.prefixes ?? []));
      assert.ok((page.items?.length ?? 0) + (page.prefixes?.length ?? 0) <= 2);
      token = page.nextPageToken;
      pages++;
    } while (token);
    assert.deepEqual(seen.sort(), ['l/a', 'l/b/', 'l/c/', 'l/d', 'l/ｚ', 'l/😀'].sort());
    assert.equal(pages, 3);
  });

  it('honours startOffset and endOffset', async () => {
    const page = await list('prefix=l/&startOffset=l/b&endOffset=l/d');
    assert.deepEqual(
      page.items?.map((i) => i.name),
      ['l/b/1', 'l/b/2', 'l/c/'],
    );
  });
});

describe('buckets', () => {
  it('inserts, gets, lists and deletes buckets', async () => {
    const created = await send({
      method: 'POST',
      url: `${base}/storage/v1/b?project=p`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'made-by-api' }),
    });
    assert.equal(created.status, 200, created.text());
    assert.equal(created.json()['name'], 'made-by-api');
    const again = await send({
      method: 'POST',
      url: `${base}/storage/v1/b?project=p`,
      body: JSON.stringify({ name: 'made-by-api' }),
    });
    assert.equal(again.status, 409);
    assert.equal(
      (await send({ method: 'GET', url: `${base}/storage/v1/b/made-by-api` })).status,
      200,
    );
    const listed = (await send({ method: 'GET', url: `${base}/storage/v1/b?project=p` })).json<{
      items: { name: string }[];
    }>();
    assert.deepEqual(
      listed.items.map((b) => b.name),
      ['made-by-api', 'test-bucket'],
    );

    await upload('x', Buffer.from('x'), 'made-by-api');
    const busy = await send({ method: 'DELETE', url: `${base}/storage/v1/b/made-by-api` });
    assert.equal(busy.status, 409);
    assert.match(busy.text(), /not empty/);
    await send({ method: 'DELETE', url: `${base}/storage/v1/b/made-by-api/o/x` });
    assert.equal(
      (await send({ method: 'DELETE', url: `${base}/storage/v1/b/made-by-api` })).status,
      204,
    );
    assert.equal(
      (await send({ method: 'GET', url: `${base}/storage/v1/b/made-by-api` })).status,
      404,
    );
  });

  it('an upload that finishes after its bucket was deleted gets 404, and the session fails for good', async () => {
    const made = await send({
      method: 'POST',
      url: `${base}/storage/v1/b?project=p`,
      body: JSON.stringify({ name: 'short-lived' }),
    });
    assert.equal(made.status, 200);
    const uri = await initiate(base, 'short-lived', 'late.bin');
    const data = randomData(CHUNK + 10);
    assert.equal(
      (await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, data.subarray(0, CHUNK))).status,
      308,
    );
    // An upload in progress does not keep a bucket from being deleted, as on GCS.
    assert.equal(
      (await send({ method: 'DELETE', url: `${base}/storage/v1/b/short-lived` })).status,
      204,
    );
    const late = await putChunk(
      uri,
      `bytes ${CHUNK}-${data.length - 1}/${data.length}`,
      data.subarray(CHUNK),
    );
    assert.equal(late.status, 404, late.text());
    assert.match(messageOf(late), /The specified bucket does not exist/);
    assert.equal((await query(uri)).status, 404);
  });

  it('refuses a bucket resource without a valid name', async () => {
    for (const body of ['{}', '{"name":"BAD NAME"}', '[', '"x"']) {
      const res = await send({ method: 'POST', url: `${base}/storage/v1/b`, body });
      assert.equal(res.status, 400, body);
    }
  });
});
