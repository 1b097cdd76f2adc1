// What S3 holds for sessions that end without an object: a cancelled session's parts and pieces
// go at once, an expired one's with the sweep, and what a crash left that no record lists, once it
// is older than any live session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { freshDatabase, openTestBlobStore, s3Env, TestBucket } from './harness/backends.js';
import { MiB, initiate, putChunk, query, randomData, storedBytes } from './harness/gcs.js';
import { SpoolProcess } from './harness/spool-process.js';
import { send } from './harness/http.js';

const bucketName = 'test-bucket';
let database: Awaited<ReturnType<typeof freshDatabase>>;
let s3: TestBucket;
let node: SpoolProcess;

before(async () => {
  database = await freshDatabase();
  s3 = await TestBucket.create();
  node = await SpoolProcess.start({
    storage: { metadata: database.url, blobs: `s3://${s3.name}/spool` },
    env: s3Env(),
    args: ['--session-ttl', '3s', '--sweep-interval', '500ms'],
  });
});
after(async () => {
  await node.stop();
  await s3.remove();
  await database.drop();
});

/** Pieces and multipart uploads in the bucket. */
async function leftovers(): Promise<string[]> {
  const pieces = await s3.keys('spool/pieces/');
  const uploads = (await s3.uploads()).map((u) => `upload of ${u.key}`);
  return [...pieces, ...uploads];
}

/** A session holding one uploaded part and one piece: 9 MiB, in a chunk that ends mid-part. */
async function sessionWithPartAndPiece(name: string): Promise<string> {
  const uri = await initiate(node.url, bucketName, name);
  const res = await putChunk(uri, `bytes 0-${9 * MiB - 1}/*`, randomData(9 * MiB));
  assert.equal(res.status, 308);
  assert.equal(storedBytes(res), 9 * MiB);
  return uri;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('leftovers in S3', () => {
  it('a cancelled session takes its part and piece with it', async () => {
    const uri = await sessionWithPartAndPiece('cleanup/cancelled.bin');
    assert.equal((await leftovers()).length, 2, (await leftovers()).join('\n'));
    assert.equal((await send({ method: 'DELETE', url: uri })).status, 499);
    assert.deepEqual(await leftovers(), []);
  });

  it('an expired session loses its part and piece to the sweep', async () => {
    const uri = await sessionWithPartAndPiece('cleanup/expired.bin');
    assert.equal((await leftovers()).length, 2);
    await until(async () => (await leftovers()).length === 0, 'the sweep');
    assert.equal((await query(uri)).status, 404);
  });

  it('data no record lists is removed once older than any live session', async () => {
    const store = await openTestBlobStore(s3.name, 'orphans/');
    try {
      // What a server that died in the middle of a one-request upload leaves.
      const Key = 'orphans/objects/0123456789abcdef0123456789abcdef';
      const { UploadId } = await s3.s3.send(
        new CreateMultipartUploadCommand({ Bucket: s3.name, Key }),
      );
      await s3.s3.send(
        new UploadPartCommand({ Bucket: s3.name, Key, UploadId, PartNumber: 1, Body: 'x' }),
      );
      await s3.s3.send(
        new PutObjectCommand({
          Bucket: s3.name,
          Key: 'orphans/pieces/0123456789abcdef0123456789abcdef/0-1',
          Body: 'y',
        }),
      );
      assert.equal(await store.removeOrphans(Date.now() - 60_000), 0, 'too young to be orphans');
      assert.equal(await store.removeOrphans(Date.now() + 60_000), 2);
      assert.deepEqual(await s3.keys('orphans/'), []);
      assert.deepEqual(await s3.uploads('orphans/'), []);
    } finally {
      await store.close();
    }
  });
});
