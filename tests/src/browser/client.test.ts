// @spool/client in Chromium, as the bundle `spool serve` hands out (/_spool/spool-client.js):
// Blobs, bytes and streams uploaded with the browser's defaults (XMLHttpRequest, localStorage),
// hashed in the browser and checked against the server's object; and the resume store on the
// real localStorage.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { BrowserRig, openUploadPage } from './harness.js';
import { readObject } from '../harness/client.js';
import { md5Base64 } from '../harness/gcs.js';

type Client = typeof import('@spool/client/browser');
/** The bundle as `spool serve` hands it out, imported by the page. */
const BUNDLE = '/_spool/spool-client.js';

const rig = BrowserRig.create();
let page: Page;

/** Bytes the page and the test both make: byte i of file `seed` is a simple function of both. */
function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * seed + (i >> 10)) & 255;
  return bytes;
}

describe('the client bundle in Chromium', () => {
  before(async () => {
    // A slow uplink, so that a request lasts long enough for upload progress events.
    rig.proxy.limitRate(8 * 1024 * 1024);
    page = await rig.browser.newPage();
    // Any page of the server's origin will do; the upload page is one.
    await openUploadPage(page, rig.proxy.url);
  });
  after(() => assert.deepEqual(rig.browser.problems, []));

  it('uploads a Blob, bytes and a ReadableStream, reporting progress, with hashes made in the browser', async () => {
    const results = await page.evaluate(async (bundle) => {
      const client = (await import(bundle)) as Client;
      const make = (size: number, seed: number) => {
        const bytes = new Uint8Array(size);
        for (let i = 0; i < size; i++) bytes[i] = (i * seed + (i >> 10)) & 255;
        return bytes;
      };
      const endpoint = location.origin;
      const out: {
        name: string;
        size: string;
        crc32c?: string;
        md5Hash?: string;
        sent: number[];
      }[] = [];
      // The Blob in one request (chunkSize null), the others in 1 MiB chunks.
      const sources: [string, () => Parameters<Client['createUpload']>[0], number | null][] = [
        ['blob.bin', () => new Blob([make(16 * 1024 * 1024 + 5, 7)]), null],
        ['bytes.bin', () => make(300_000, 11), 1024 * 1024],
        [
          'stream.bin',
          () => new Blob([make(3 * 1024 * 1024 + 77, 13)]).stream() as ReadableStream<Uint8Array>,
          1024 * 1024,
        ],
      ];
      for (const [name, source, chunkSize] of sources) {
        const sent: number[] = [];
        const task = client.createUpload(source(), `gs://test-bucket/browser/${name}`, {
          endpoint,
          stateStore: null,
          chunkSize,
        });
        task.on('progress', (p) => sent.push(p.sent));
        const object = await task.start();
        out.push({
          name,
          size: object.size,
          crc32c: object.crc32c,
          md5Hash: object.md5Hash,
          sent,
        });
      }
      return out;
    }, BUNDLE);
    const expected: Record<string, Buffer> = {
      'blob.bin': pattern(16 * 1024 * 1024 + 5, 7),
      'bytes.bin': pattern(300_000, 11),
      'stream.bin': pattern(3 * 1024 * 1024 + 77, 13),
    };
    for (const result of results) {
      const data = expected[result.name]!;
      assert.equal(result.size, String(data.length));
      assert.equal(result.md5Hash, md5Base64(data));
      assert.deepEqual(await readObject(rig.spool.url, `browser/${result.name}`), data);
      // Progress from XMLHttpRequest's upload events: steps within the Blob's one request,
      // never backwards, to the end.
      if (result.name === 'blob.bin') {
        const within = new Set(result.sent.filter((n) => n > 0 && n < 16 * 1024 * 1024));
        assert.ok(within.size >= 5, `${within.size} steps within the request`);
      }
      assert.deepEqual(
        result.sent,
        [...result.sent].sort((a, b) => a - b),
      );
      assert.equal(result.sent.at(-1), data.length);
    }
  });

  it('remembers sessions in localStorage, ignores what it did not write, and drops dead ones', async () => {
    const outcome = await page.evaluate(async (bundle) => {
      const client = (await import(bundle)) as Client;
      localStorage.clear();
      const week = 7 * 24 * 3600 * 1000;
      let now = Date.now();
      const store = new client.WebStorageStateStore(localStorage, () => now);
      await store.set('a', { sessionUri: 'http://s/a', createdAt: now });
      await store.set('old', { sessionUri: 'http://s/old', createdAt: now - week });
      localStorage.setItem('spool-upload:torn', '{"sessionUri":');
      localStorage.setItem('unrelated', 'kept');
      const read = {
        a: await store.get('a'),
        old: await store.get('old'),
        torn: await store.get('torn'),
        missing: await store.get('missing'),
      };
      // Writing a record clears out the ones no session can outlive, and torn ones.
      now += 2 * 3600 * 1000;
      await store.set('b', { sessionUri: 'http://s/b', createdAt: now });
      await store.delete('a');
      return { read, keys: Object.keys(localStorage).sort() };
    }, BUNDLE);
    assert.deepEqual(outcome.read.a, {
      sessionUri: 'http://s/a',
      createdAt: outcome.read.a!.createdAt,
    });
    assert.equal(outcome.read.old?.sessionUri, 'http://s/old');
    assert.equal(outcome.read.torn, undefined);
    assert.equal(outcome.read.missing, undefined);
    assert.deepEqual(outcome.keys, ['spool-upload:b', 'unrelated']);
  });
});
