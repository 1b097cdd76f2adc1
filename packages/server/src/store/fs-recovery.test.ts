// What a crash between two steps leaves in a data directory, and what the next start makes of it.
// Each test carries out the first step of an operation through the stores, stops there as a
// SIGKILL would, and opens the directory again.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UploadHasher, type HashState } from '@spool/core';
import { newBlobId, newSessionId } from '../ids.js';
import { jsonLogger, silentLogger } from '../log.js';
import { openDataDir } from '../spool.js';
import type { BlobStore, ObjectRecord, SessionRecord, Stores } from './types.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function freshStores(): Promise<{ dir: string; stores: Stores }> {
  const dir = await mkdtemp(join(tmpdir(), 'spool-recovery-'));
  dirs.push(dir);
  const stores = await openDataDir(dir, silentLogger);
  const now = new Date().toISOString();
  await stores.metadata.createBucket({
    name: 'b',
    timeCreated: now,
    updated: now,
    metageneration: '1',
    location: 'US',
    storageClass: 'STANDARD',
  });
  return { dir, stores };
}

/**
 * What the kernel does when the process dies: the data directory's lock goes. Nothing else is
 * closed or flushed (the stores keep nothing unwritten).
 */
function crash(stores: Stores): Promise<void> {
  return stores.metadata.close();
}

/** A blob written in one go and moved into place, as a one-request upload's is. */
async function oneShotBlob(blobs: BlobStore, bytes: Buffer): Promise<string> {
  const blobId = newBlobId();
  const writer = await blobs.openOneShotWriter(blobId);
  await writer.write(bytes);
  await writer.commit(bytes.length, true);
  return blobId;
}

function draft(name: string, blobId: string, size: number): Omit<ObjectRecord, 'generation'> {
  const now = new Date().toISOString();
  return {
    bucket: 'b',
    name,
    blobId,
    size,
    metageneration: '1',
    crc32c: 'AAAAAA==',
    contentType: 'application/octet-stream',
    timeCreated: now,
    updated: now,
  };
}

function activeSession(blobId: string, persisted: number, hash: HashState): SessionRecord {
  return {
    id: newSessionId(),
    blobId,
    api: 'json',
    bucket: 'b',
    name: 'in-progress',
    metadata: {},
    declaredHashes: {},
    preconditions: {},
    declaredSize: undefined,
    origin: undefined,
    createdAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
    status: 'active',
    persisted,
    total: undefined,
    hash,
  };
}

describe('a completion whose session record could not be written', () => {
  it('completes again with the same object when asked again, its preconditions notwithstanding', async () => {
    const { dir, stores } = await freshStores();
    const { metadata, blobs } = stores;
    const bytes = Buffer.from('the object');
    const blobId = newBlobId();
    const writer = await blobs.openWriter(blobId, {
      offset: 0,
      state: undefined,
      expectedSize: undefined,
    });
    await writer.write(bytes);
    await writer.commit(bytes.length, true);
    const session = {
      ...activeSession(blobId, bytes.length, new UploadHasher().update(bytes).save()),
      preconditions: { ifGenerationMatch: '0' },
    };
    await metadata.createSession(session);
    // The object record is written, then the session record cannot be (no room for it).
    await rm(join(dir, 'sessions'), { recursive: true });
    await assert.rejects(metadata.completeUpload(session, draft('in-progress', blobId, 10)));
    await mkdir(join(dir, 'sessions'));
    await metadata.createSession(session);

    const again = await metadata.completeUpload(session, draft('in-progress', blobId, 10));
    assert.ok(again.ok, "the object created by the first attempt is the upload's own");
    assert.equal(again.object.blobId, blobId);
    assert.equal(again.replaced, undefined);
    assert.equal((await metadata.getSession(session.id))?.status, 'final');
  });
});

describe('a start after a crash', () => {
  it('deletes the data of an object replaced or deleted just before the crash, and nothing in use', async () => {
    const { dir, stores } = await freshStores();
    const { metadata, blobs } = stores;
    const replacedBlob = await oneShotBlob(blobs, Buffer.from('first'));
    await metadata.commitObject(draft('replaced', replacedBlob, 5), {});
    const currentBlob = await oneShotBlob(blobs, Buffer.from('second'));
    const replacing = await metadata.commitObject(draft('replaced', currentBlob, 6), {});
    assert.ok(replacing.ok && replacing.replaced?.blobId === replacedBlob);
    const deletedBlob = await oneShotBlob(blobs, Buffer.from('gone'));
    const deleting = await metadata.commitObject(draft('deleted', deletedBlob, 4), {});
    assert.ok(deleting.ok);
    await metadata.deleteObject('b', 'deleted', deleting.object.generation);
    // An upload in progress keeps its data.
    const sessionBlob = newBlobId();
    const writer = await blobs.openWriter(sessionBlob, {
      offset: 0,
      state: undefined,
      expectedSize: undefined,
    });
    const bytes = Buffer.alloc(300_000, 7);
    await writer.write(bytes);
    await writer.commit(bytes.length, true);
    await metadata.createSession(
      activeSession(sessionBlob, bytes.length, new UploadHasher().update(bytes).save()),
    );
    // The crash: the handlers would have deleted replacedBlob and deletedBlob now.
    await crash(stores);

    const reopened = await openDataDir(dir, silentLogger);
    assert.deepEqual((await readdir(join(dir, 'blobs'))).sort(), [currentBlob, sessionBlob].sort());
    assert.equal(await reopened.blobs.size(currentBlob), 6);
    assert.equal(await reopened.blobs.size(sessionBlob), bytes.length);
  });

  it('deletes a one-request upload stored but not yet committed', async () => {
    const { dir, stores } = await freshStores();
    const kept = await oneShotBlob(stores.blobs, Buffer.from('kept'));
    await stores.metadata.commitObject(draft('kept', kept, 4), {});
    await oneShotBlob(stores.blobs, Buffer.from('never committed'));
    await crash(stores);

    await openDataDir(dir, silentLogger);
    assert.deepEqual(await readdir(join(dir, 'blobs')), [kept]);
  });

  it('removes new records whose creation was cut short, and keeps the others', async () => {
    const { dir, stores } = await freshStores();
    const kept = activeSession(newBlobId(), 0, new UploadHasher().save());
    await stores.metadata.createSession(kept);
    const keptObject = await oneShotBlob(stores.blobs, Buffer.from('kept'));
    await stores.metadata.commitObject(draft('kept', keptObject, 4), {});
    // What a power cut can leave of a record being created: an empty file, or its first bytes.
    const full = JSON.stringify(activeSession(newBlobId(), 0, new UploadHasher().save()));
    await writeFile(join(dir, 'sessions', `${'a'.repeat(64)}.json`), '');
    await writeFile(join(dir, 'sessions', `${'b'.repeat(64)}.json`), full.slice(0, 40));
    const objects = join(dir, 'buckets', 'b', 'objects');
    await writeFile(join(objects, `${'c'.repeat(64)}.json`), '{"bucket":"b","na');
    await crash(stores);

    const lines: string[] = [];
    const reopened = await openDataDir(
      dir,
      jsonLogger('info', (line) => lines.push(line)),
    );
    const ready = JSON.parse(lines.find((l) => l.includes('data directory ready'))!) as {
      unfinished: number;
      sessions: number;
    };
    assert.equal(ready.unfinished, 3);
    assert.equal(ready.sessions, 1);
    assert.equal((await readdir(join(dir, 'sessions'))).length, 1);
    assert.equal((await readdir(objects)).length, 1);
    const listed = await reopened.metadata.listObjects('b', {
      prefix: '',
      delimiter: undefined,
      after: undefined,
      maxResults: 10,
      startOffset: undefined,
      endOffset: undefined,
      includeTrailingDelimiter: false,
    });
    assert.deepEqual(
      listed.items.map((o) => o.name),
      ['kept'],
    );
    assert.deepEqual(await reopened.metadata.getSession(kept.id), JSON.parse(JSON.stringify(kept)));
    assert.equal(await reopened.metadata.countOpenSessions(), 1);
  });

  it('starts when a crash interrupted the deletion of a bucket', async () => {
    const { dir, stores } = await freshStores();
    // deleteBucket removes bucket.json, then objects/, then the bucket's directory.
    await rm(join(dir, 'buckets', 'b', 'bucket.json'));
    await rm(join(dir, 'buckets', 'b', 'objects'), { recursive: true });
    await crash(stores);
    const reopened = await openDataDir(dir, silentLogger);
    assert.equal(await reopened.metadata.getBucket('b'), undefined);
  });
});
