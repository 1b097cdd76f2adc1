// The official @google-cloud/storage client (v7), unchanged, pointed at `spool serve`. Each test
// records its outcome for the README's compatibility table.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe } from 'node:test';
import { Storage } from '@google-cloud/storage';
import { compat } from './harness/compat.js';
import { CHUNK, MiB, md5Base64, query, randomData, storedBytes } from './harness/gcs.js';
import { SpoolProcess } from './harness/spool-process.js';

const tool = '@google-cloud/storage 7';
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
  compat(tool, 'bucket.upload, small file (multipart upload)', async () => {
    const data = randomData(100_000);
    const [file, metadata] = await storage
      .bucket(bucketName)
      .upload(await fileOf('small.bin', data), {
        destination: 'node/small.bin',
        resumable: false,
      });
    assert.equal((metadata as { md5Hash?: string }).md5Hash, md5Base64(data));
    assert.deepEqual(await readBack(file.name), data);
  });

  compat(tool, 'bucket.upload, large file (resumable, single request)', async () => {
    const data = randomData(12 * MiB + 123);
    const [file, metadata] = await storage
      .bucket(bucketName)
      .upload(await fileOf('large.bin', data), {
        destination: 'node/large.bin',
      });
    // The client converts `size` to a number; on the wire it is a string (checked elsewhere).
    const resource = metadata as { size?: unknown; md5Hash?: string };
    assert.equal(String(resource.size), String(data.length));
    assert.equal(resource.md5Hash, md5Base64(data));
    assert.deepEqual(await readBack(file.name), data);
  });

  compat(tool, 'bucket.upload with chunkSize (resumable, chunks)', async () => {
    const data = randomData(3 * MiB + 5);
    const [file] = await storage.bucket(bucketName).upload(await fileOf('chunked.bin', data), {
      destination: 'node/chunked.bin',
      resumable: true,
      chunkSize: 4 * CHUNK,
    });
    assert.deepEqual(await readBack(file.name), data);
  });

  compat(tool, 'file.save (resumable and multipart)', async () => {
    const data = randomData(300_000);
    const file = storage.bucket(bucketName).file('node/saved.bin');
    await file.save(data, { metadata: { metadata: { purpose: 'test' } } });
    assert.deepEqual(await readBack('node/saved.bin'), data);
    await file.save(Buffer.from('replaced'), { resumable: false });
    assert.deepEqual(await readBack('node/saved.bin'), Buffer.from('replaced'));
  });

  compat(tool, 'createWriteStream, single request, from a stream', async () => {
    const data = randomData(5 * MiB + 77);
    const file = storage.bucket(bucketName).file('node/stream-single.bin');
    await pipeline(
      Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
      file.createWriteStream({ resumable: true }),
    );
    assert.deepEqual(await readBack('node/stream-single.bin'), data);
  });

  compat(tool, 'createWriteStream with chunkSize, from a stream', async () => {
    const data = randomData(2 * MiB + 77);
    const file = storage.bucket(bucketName).file('node/stream.bin');
    await pipeline(
      Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
      file.createWriteStream({ resumable: true, chunkSize: 2 * CHUNK }),
    );
    assert.deepEqual(await readBack('node/stream.bin'), data);
  });

  compat(tool, 'createResumableUpload, then finish through uri', async () => {
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

  compat(tool, 'createWriteStream with uri resumes a session another process started', async () => {
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

  compat(tool, 'file.download to a file, and a byte range', async () => {
    const data = randomData(200_000);
    const file = storage.bucket(bucketName).file('node/download.bin');
    await file.save(data, { resumable: false });
    const destination = join(dir, 'downloaded.bin');
    await file.download({ destination });
    assert.deepEqual(await readFile(destination), data);
    const [part] = await file.download({ start: 1000, end: 1999 });
    assert.deepEqual(part, data.subarray(1000, 2000));
  });

  compat(tool, 'getMetadata and setMetadata', async () => {
    const file = storage.bucket(bucketName).file('node/metadata.bin');
    await file.save(Buffer.from('m'), {
      resumable: false,
      metadata: { contentType: 'text/plain', metadata: { a: '1' } },
    });
    const [updated] = await file.setMetadata({
      cacheControl: 'no-store',
      metadata: { b: '2', a: null },
    });
    assert.equal(updated.cacheControl, 'no-store');
    assert.deepEqual(updated.metadata, { b: '2' });
    const [fetched] = await file.getMetadata();
    assert.equal(fetched.metageneration, '2');
    assert.equal(fetched.contentType, 'text/plain');
    assert.deepEqual(fetched.metadata, { b: '2' });
  });

  compat(tool, 'getFiles with prefix, delimiter and pages', async () => {
    const bucket = storage.bucket(bucketName);
    for (const name of ['list/a.txt', 'list/b/1.txt', 'list/b/2.txt', 'list/c.txt']) {
      await bucket.file(name).save(Buffer.from(name), { resumable: false });
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
    const [firstPage] = await bucket.getFiles({
      prefix: 'list/',
      maxResults: 2,
      autoPaginate: false,
    });
    assert.deepEqual(
      firstPage.map((f) => f.name),
      ['list/a.txt', 'list/b/1.txt'],
    );
    const [all] = await bucket.getFiles({ prefix: 'list/' });
    assert.equal(all.length, 4);
  });

  compat(tool, 'bucket.combine (compose)', async () => {
    const bucket = storage.bucket(bucketName);
    const parts = [randomData(300_000), randomData(5), randomData(70_000)];
    for (const [i, part] of parts.entries())
      await bucket.file(`compose/part-${i}`).save(part, { resumable: false });
    const [combined] = await bucket.combine(
      parts.map((_, i) => `compose/part-${i}`),
      'compose/whole.bin',
    );
    const [metadata] = await combined.getMetadata();
    assert.equal(metadata.componentCount, 3);
    assert.equal(metadata.md5Hash, undefined, 'composite objects have no MD5, as on GCS');
    assert.deepEqual(await readBack('compose/whole.bin'), Buffer.concat(parts));
  });

  compat(tool, 'file.delete, and exists afterwards', async () => {
    const file = storage.bucket(bucketName).file('node/doomed.bin');
    await file.save(Buffer.from('x'), { resumable: false });
    await file.delete();
    const [exists] = await file.exists();
    assert.equal(exists, false);
  });

  compat(tool, 'preconditions: a second upload with ifGenerationMatch: 0 gets 412', async () => {
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
});
