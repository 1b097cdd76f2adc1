import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isStale, resumeKey } from '../state-store.js';
import { FileStateStore, defaultCacheDir } from './state-store.js';

const dir = await mkdtemp(join(tmpdir(), 'spool-store-'));
after(() => rm(dir, { recursive: true, force: true }));

const key = resumeKey({
  endpoint: 'http://127.0.0.1:4080',
  bucket: 'b',
  object: 'o',
  fingerprint: 'file:x',
  initiation: {},
});

describe('FileStateStore', () => {
  it('remembers, replaces and forgets a session, in a file only its owner can read', async () => {
    const store = new FileStateStore(join(dir, 'uploads'));
    assert.equal(await store.get(key), undefined);
    await store.set(key, { sessionUri: 'http://h/u?upload_id=1', createdAt: 1 });
    await store.set(key, { sessionUri: 'http://h/u?upload_id=2', createdAt: 2 });
    assert.deepEqual(await store.get(key), { sessionUri: 'http://h/u?upload_id=2', createdAt: 2 });
    const files = await readdir(store.dir);
    assert.equal(files.length, 1, 'one file, no temporary left behind');
    assert.equal((await stat(join(store.dir, files[0]!))).mode & 0o777, 0o600);
    await store.delete(key);
    assert.equal(await store.get(key), undefined);
    await store.delete(key);
  });

  it('treats a torn or foreign file as no record', async () => {
    const store = new FileStateStore(join(dir, 'torn'));
    await store.set(key, { sessionUri: 'http://h/u', createdAt: 1 });
    const [file] = await readdir(store.dir);
    await writeFile(join(store.dir, file!), '{"key": "x", "rec');
    assert.equal(await store.get(key), undefined);
    await writeFile(
      join(store.dir, file!),
      JSON.stringify({ key: 'other', record: { sessionUri: 'u', createdAt: 1 } }),
    );
    assert.equal(await store.get(key), undefined);
  });

  it('lives under $XDG_CACHE_HOME/spool, else ~/.cache/spool', () => {
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/c' }), '/c/spool');
    assert.match(defaultCacheDir({}), /\/\.cache\/spool$/);
  });

  it('calls a session stale within an hour of its week', () => {
    const week = 7 * 24 * 3600 * 1000;
    assert.ok(!isStale({ sessionUri: 'u', createdAt: 0 }, week - 2 * 3600 * 1000));
    assert.ok(isStale({ sessionUri: 'u', createdAt: 0 }, week - 30 * 60 * 1000));
  });
});
