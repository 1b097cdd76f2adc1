import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

test('a session writer at offset 0 takes over what an earlier request left uncommitted; past 0, a missing file is an error that says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spool-blobs-'));
  try {
    await mkdir(join(dir, 'blobs'));
    const blobs = new FsBlobStore(join(dir, 'blobs'));
    const start = { offset: 0, state: undefined, expectedSize: undefined };
    // What a request that died before its first commit leaves (a crash skips the writer's cleanup).
    await writeFile(join(dir, 'blobs', 's1'), 'never acknowledged');
    const second = await blobs.openWriter('s1', start);
    await second.write(Buffer.from('kept'));
    await second.commit(4, true);
    assert.equal(await blobs.size('s1'), 4);
    await assert.rejects(
      blobs.openWriter('gone', { ...start, offset: 262144 }),
      /Blob gone is missing, though 262144 bytes are recorded as stored/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
