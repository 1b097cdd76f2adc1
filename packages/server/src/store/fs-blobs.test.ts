import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FsBlobStore } from './fs-blobs.js';

test('reading a blob that is gone (its object replaced meanwhile) gives undefined, not an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spool-blobs-'));
  try {
    await mkdir(join(dir, 'blobs'));
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    const writer = await blobs.openOneShotWriter('b1');
    await writer.write(Buffer.from('hello'));
    await writer.commit(5, true);
    const stream = await blobs.read('b1', 0, 4);
    const parts: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
    assert.equal(Buffer.concat(parts).toString(), 'hello');
    await blobs.delete('b1');
    assert.equal(await blobs.read('b1', 0, 4), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
