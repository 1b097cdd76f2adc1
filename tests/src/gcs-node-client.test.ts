// The official @google-cloud/storage client (v7), unchanged, pointed at `spool serve`.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { Storage } from '@google-cloud/storage';
import { CHUNK, MiB, md5Base64, query, randomData, storedBytes } from './harness/gcs.js';
import { SpoolProcess } from './harness/spool-process.js';

let spool: SpoolProcess;
let storage: Storage;
let dir: string;
const bucketName = 'test-bucket';

before(async () => {
  spool = await SpoolProcess.start();
  storage = new Storage({ apiEndpoint: spool.url, projectId: 'spool-test' });
  dir = await mkdtemp(join(tmpdir(), 'spool-gcs-'));
});
after(async () => {
  await spool.stop();
  await rm(dir, { recursive: true, force: true });
});

async function fileOf(name: string, data: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

async function readBack(name: string): Promise<Buffer> {
  const [content] = await storage.bucket(bucketName).file(name).download();
  return content;
}

describe('@google-cloud/storage v7 against spool serve', () => {
  it('bucket.upload with resumable: true in single-request mode', async () => {
    const data = randomData(5 * MiB + 123);
    const [file, metadata] = await storage
      .bucket(bucketName)
      .upload(await fileOf('single.bin', data), {
        destination: 'node/single.bin',
        resumable: true,
      });
    // The client converts `size` to a number; on the wire it is a string (checked elsewhere).
    const resource = metadata as { size?: unknown; md5Hash?: string };
    assert.equal(String(resource.size), String(data.length));
    assert.equal(resource.md5Hash, md5Base64(data));
    assert.deepEqual(await readBack(file.name), data);
  });

  it('bucket.upload with a chunkSize (multi-chunk mode)', async () => {
    const data = randomData(3 * MiB + 5);
    const [file] = await storage.bucket(bucketName).upload(await fileOf('chunked.bin', data), {
      destination: 'node/chunked.bin',
      resumable: true,
      chunkSize: 4 * CHUNK,
    });
    assert.deepEqual(await readBack(file.name), data);
  });

  it('createWriteStream, chunked, from a stream of unknown length', async () => {
    const data = randomData(2 * MiB + 77);
    const file = storage.bucket(bucketName).file('node/stream.bin');
    await pipeline(
      Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
      file.createWriteStream({ resumable: true, chunkSize: 2 * CHUNK }),
    );
    assert.deepEqual(await readBack('node/stream.bin'), data);
  });

  it('createResumableUpload, then finishes the session later through uri', async () => {
    const data = randomData(MiB + 9);
    const file = storage.bucket(bucketName).file('node/later.bin');
    const [uri] = await file.createResumableUpload({
      metadata: { contentType: 'application/x-test' },
    });
    assert.equal(new URL(uri).origin, spool.url);
    const before = await query(uri);
    assert.equal(before.status, 308);
    assert.equal(storedBytes(before), 0);
    await pipeline(Readable.from([data]), file.createWriteStream({ uri, resumable: true }));
    assert.deepEqual(await readBack('node/later.bin'), data);
    const [metadata] = await file.getMetadata();
    assert.equal(metadata.contentType, 'application/x-test');
  });

  it('resumes a session whose first part was sent by another process (uri + chunkSize)', async () => {
    const data = randomData(4 * CHUNK + 100);
    const file = storage.bucket(bucketName).file('node/resumed.bin');
    const [uri] = await file.createResumableUpload();
    const first = await fetch(uri, {
      method: 'PUT',
      headers: { 'content-range': `bytes 0-${2 * CHUNK - 1}/*` },
      body: data.subarray(0, 2 * CHUNK),
    });
    assert.equal(first.status, 308);
    // Without `offset`, the client asks the server what it has and skips those bytes of the stream.
    await pipeline(
      Readable.from([data]),
      file.createWriteStream({ uri, resumable: true, chunkSize: 2 * CHUNK }),
    );
    assert.deepEqual(await readBack('node/resumed.bin'), data);
  });

  it('file.save of a buffer, then download, getMetadata and delete', async () => {
    const data = randomData(300_000);
    const file = storage.bucket(bucketName).file('node/saved.bin');
    await file.save(data, { resumable: true, metadata: { metadata: { purpose: 'test' } } });
    assert.deepEqual(await readBack('node/saved.bin'), data);
    const [metadata] = await file.getMetadata();
    assert.equal(metadata.metadata?.['purpose'], 'test');
    await file.delete();
    const [exists] = await file.exists();
    assert.equal(exists, false);
  });

  it('refuses a second upload with ifGenerationMatch: 0 (412)', async () => {
    const file = storage.bucket(bucketName).file('node/precondition.bin');
    await file.save(Buffer.from('one'), {
      resumable: true,
      preconditionOpts: { ifGenerationMatch: 0 },
    });
    await assert.rejects(
      file.save(Buffer.from('two'), {
        resumable: true,
        preconditionOpts: { ifGenerationMatch: 0 },
      }),
      (error: { code?: number }) => error.code === 412,
    );
    assert.deepEqual(await readBack('node/precondition.bin'), Buffer.from('one'));
  });

  it('lists with prefix and delimiter', async () => {
    const bucket = storage.bucket(bucketName);
    for (const name of ['list/a.txt', 'list/b/1.txt', 'list/b/2.txt', 'list/c.txt']) {
      await bucket.file(name).save(Buffer.from(name), { resumable: true });
    }
    const [files, , response] = await bucket.getFiles({
      prefix: 'list/',
      delimiter: '/',
      autoPaginate: false,
    });
    assert.deepEqual(
      files.map((f) => f.name),
      ['list/a.txt', 'list/c.txt'],
    );
    assert.deepEqual((response as { prefixes?: string[] }).prefixes, ['list/b/']);
    const [all] = await bucket.getFiles({ prefix: 'list/', maxResults: 2 });
    assert.deepEqual(
      all.map((f) => f.name),
      ['list/a.txt', 'list/b/1.txt'],
    );
    const [paged] = await bucket.getFiles({ prefix: 'list/' });
    assert.equal(paged.length, 4);
  });
});
