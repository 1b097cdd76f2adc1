// The S3 blob store against a real S3 (Ceph RGW): what a writer puts where, what a commit
// records, how a new writer goes on from a recorded layout after another one died, and that
// nothing is left behind once a blob is sealed or deleted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { BlobState, BlobWriter, S3BlobStore } from '@spool/server';
import { openTestBlobStore, TestBucket } from './harness/backends.js';
import { CHUNK, MiB, randomData } from './harness/gcs.js';

let bucket: TestBucket;
let store: S3BlobStore;

before(async () => {
  bucket = await TestBucket.create();
  store = await openTestBlobStore(bucket.name, 'blobs/');
});
after(async () => {
  await store.close();
  await bucket.remove();
});

const newBlob = () => randomBytes(16).toString('hex');

/** A writer for a new blob, for an object of `expectedSize` bytes if known. */
const freshWriter = (blobId: string, expectedSize: number | undefined) =>
  store.openWriter(blobId, { offset: 0, state: undefined, expectedSize });

/** Writes `data` in request-sized pieces, as the ingest loop does. */
async function writeAll(writer: BlobWriter, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += 64 * 1024) {
    await writer.write(data.subarray(at, Math.min(at + 64 * 1024, data.length)));
  }
}

async function readAll(blobId: string, start: number, end: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of (await store.read(blobId, start, end)) as AsyncIterable<Buffer>)
    parts.push(chunk);
  return Buffer.concat(parts);
}

/** The layout a commit returned, as the session record keeps it. */
function shape(state: BlobState | undefined): { parts: number[]; pieces: number[] } {
  const s = state as { parts: [number, string][]; pieces: [number, string][] } | undefined;
  return { parts: (s?.parts ?? []).map((p) => p[0]), pieces: (s?.pieces ?? []).map((p) => p[0]) };
}

/** Keys and multipart uploads of a blob left in S3. */
async function leftovers(blobId: string): Promise<string[]> {
  const keys = (await bucket.keys('blobs/')).filter(
    (k) => k.includes(blobId) && k !== `blobs/objects/${blobId}`,
  );
  const uploads = (await bucket.uploads('blobs/')).filter((u) => u.key.includes(blobId));
  return [...keys, ...uploads.map((u) => `upload of ${u.key}`)];
}

describe('S3 blob store', () => {
  it('sends the parts of one long request straight from memory; sealing makes the object', async () => {
    const blobId = newBlob();
    const data = randomData(20 * MiB + 5);
    const writer = await freshWriter(blobId, data.length);
    await writeAll(writer, data);
    const state = await writer.commit(data.length, true);
    // The last part went up with the final commit: no pieces to read back when sealing.
    assert.deepEqual(shape(state), { parts: [8 * MiB, 8 * MiB, 4 * MiB + 5], pieces: [] });
    await store.seal(blobId, data.length, state);
    assert.equal(await store.size(blobId), data.length);
    assert.ok((await readAll(blobId, 0, data.length - 1)).equals(data));
    const across = [8 * MiB - 10, 8 * MiB + 9] as const;
    assert.ok((await readAll(blobId, ...across)).equals(data.subarray(across[0], across[1] + 1)));
    assert.deepEqual(await leftovers(blobId), []);
  });

  it('keeps committed bytes short of a part in pieces, and folds them into the part later', async () => {
    const blobId = newBlob();
    const data = randomData(11 * MiB + 100);
    let writer = await freshWriter(blobId, undefined);
    await writeAll(writer, data.subarray(0, 3 * MiB + 1000));
    // A checkpoint in the middle of a request: 3 MiB acknowledged, the rest goes on.
    let state = await writer.commit(3 * MiB, false);
    assert.deepEqual(shape(state), { parts: [], pieces: [3 * MiB] });
    await writeAll(writer, data.subarray(3 * MiB + 1000, 5 * MiB));
    state = await writer.commit(5 * MiB, true);
    assert.deepEqual(shape(state), { parts: [], pieces: [3 * MiB, 2 * MiB] });

    // The next request, on any server, goes on from the recorded layout: the part it fills is
    // made of both pieces and the new bytes.
    writer = await store.openWriter(blobId, { offset: 5 * MiB, state, expectedSize: undefined });
    await writeAll(writer, data.subarray(5 * MiB));
    state = await writer.commit(data.length, true);
    assert.deepEqual(shape(state), { parts: [8 * MiB], pieces: [3 * MiB + 100] });
    await store.seal(blobId, data.length, state);
    assert.ok((await readAll(blobId, 0, data.length - 1)).equals(data));
    assert.deepEqual(await leftovers(blobId), []);
  });

  it('goes on from the recorded layout after a writer died with bytes nobody recorded', async () => {
    const blobId = newBlob();
    const first = randomData(20 * MiB);
    let writer = await freshWriter(blobId, undefined);
    await writeAll(writer, first.subarray(0, 5 * MiB));
    const recorded = await writer.commit(5 * MiB, false);
    // It goes on and uploads two parts (a multipart upload nobody records), then dies.
    await writeAll(writer, first.subarray(5 * MiB));
    await writer.abandon();

    // The next writer starts at the recorded 5 MiB; what it writes after that is what counts
    // (here different bytes, to tell them apart).
    const second = randomData(7 * MiB + 3);
    writer = await store.openWriter(blobId, {
      offset: 5 * MiB,
      state: recorded,
      expectedSize: undefined,
    });
    await writeAll(writer, second);
    const state = await writer.commit(12 * MiB + 3, true);
    await store.seal(blobId, 12 * MiB + 3, state);
    const expected = Buffer.concat([first.subarray(0, 5 * MiB), second]);
    assert.ok((await readAll(blobId, 0, expected.length - 1)).equals(expected));
    // The dead writer's multipart upload and pieces are gone with the seal.
    assert.deepEqual(await leftovers(blobId), []);
  });

  it('commits at the end of a part without writing anything more', async () => {
    const blobId = newBlob();
    const data = randomData(8 * MiB + 100 * 1024);
    const writer = await freshWriter(blobId, undefined);
    await writeAll(writer, data);
    assert.equal(writer.cheapAt?.(8 * MiB - CHUNK), false, 'those bytes went up in a part');
    assert.equal(writer.cheapAt?.(8 * MiB), true);
    const state = await writer.commit(8 * MiB, false);
    assert.deepEqual(shape(state), { parts: [8 * MiB], pieces: [] });
    await writer.abandon();
    assert.deepEqual(
      (await bucket.keys('blobs/pieces/')).filter((k) => k.includes(blobId)),
      [],
      'no piece was written',
    );
    await store.delete(blobId);
  });

  it('drops what was written past the offset of a final commit', async () => {
    const blobId = newBlob();
    const data = randomData(3 * MiB);
    const writer = await freshWriter(blobId, undefined);
    await writeAll(writer, data);
    const state = await writer.commit(10 * CHUNK, true);
    assert.deepEqual(shape(state), { parts: [], pieces: [10 * CHUNK] });
    await store.seal(blobId, 10 * CHUNK, state);
    assert.ok((await readAll(blobId, 0, 10 * CHUNK - 1)).equals(data.subarray(0, 10 * CHUNK)));
  });

  it('builds a part bigger than a writer holds in memory from pieces', async () => {
    const blobId = newBlob();
    const data = randomData(40 * MiB);
    // 300 GB announced: parts of 29 MiB, more than the 16 MiB a writer holds before it stores a
    // piece.
    const writer = await freshWriter(blobId, 300e9);
    await writeAll(writer, data);
    const state = await writer.commit(data.length, true);
    assert.deepEqual(shape(state), { parts: [29 * MiB], pieces: [11 * MiB] });
    await store.seal(blobId, data.length, state);
    assert.ok((await readAll(blobId, 0, data.length - 1)).equals(data));
    assert.deepEqual(await leftovers(blobId), []);
  });

  it('seals again without harm after a crash between sealing and recording it', async () => {
    const blobId = newBlob();
    const data = randomData(9 * MiB);
    const writer = await freshWriter(blobId, undefined);
    await writeAll(writer, data);
    const state = await writer.commit(data.length, true);
    await store.seal(blobId, data.length, state);
    // The upload is complete and the pieces are gone: the object is what counts.
    await store.seal(blobId, data.length, state);
    assert.ok((await readAll(blobId, 0, data.length - 1)).equals(data));
  });

  it('deletes a blob with its pieces and the multipart uploads nobody recorded', async () => {
    const blobId = newBlob();
    const writer = await freshWriter(blobId, undefined);
    await writeAll(writer, randomData(9 * MiB));
    await writer.commit(9 * MiB, false);
    await writer.abandon();
    assert.notDeepEqual(await leftovers(blobId), []);
    await store.delete(blobId);
    assert.deepEqual(await leftovers(blobId), []);
    assert.equal(await store.size(blobId), undefined);
  });

  it('refuses a layout that holds fewer bytes than the session says', async () => {
    await assert.rejects(
      store.openWriter(newBlob(), { offset: CHUNK, state: undefined, expectedSize: undefined }),
      /holds 0 bytes, fewer than the 262144 recorded/,
    );
  });
});
