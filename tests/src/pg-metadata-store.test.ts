// The PostgreSQL metadata store against a real PostgreSQL: schema migrations (several servers at
// once), sessions, object commits and listings.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { UploadHasher } from '@spool/core';
import {
  PgMetadataStore,
  createPool,
  migrate,
  migrations,
  silentLogger,
  type ObjectRecord,
  type SessionRecord,
} from '@spool/server';
import { freshDatabase } from './harness/backends.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
let store: PgMetadataStore;
const NOW = Date.now();

before(async () => {
  database = await freshDatabase();
  const pool = createPool(database.url, silentLogger);
  await migrate(pool);
  store = new PgMetadataStore(pool);
  for (const name of ['bucket-a', 'bucket-b']) {
    await store.createBucket({
      name,
      timeCreated: new Date(NOW).toISOString(),
      updated: new Date(NOW).toISOString(),
      metageneration: '1',
      location: 'US',
      storageClass: 'STANDARD',
    });
  }
});
after(async () => {
  await store.close();
  await database.drop();
});

function session(fields: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomBytes(32).toString('base64url'),
    blobId: randomBytes(16).toString('hex'),
    api: 'json',
    bucket: 'bucket-a',
    name: 'some/object',
    metadata: {},
    declaredHashes: {},
    preconditions: {},
    declaredSize: undefined,
    origin: undefined,
    createdAt: NOW,
    expiresAt: NOW + 60_000,
    status: 'active',
    persisted: 0,
    total: undefined,
    hash: new UploadHasher().save(),
    ...fields,
  };
}

/** A record as JSON keeps it: without its undefined fields. */
const asStored = <T>(record: T): T => JSON.parse(JSON.stringify(record)) as T;

function draft(s: SessionRecord): Omit<ObjectRecord, 'generation'> {
  return {
    bucket: s.bucket,
    name: s.name,
    blobId: s.blobId,
    metageneration: '1',
    size: 0,
    crc32c: 'AAAAAA==',
    md5Hash: '1B2M2Y8AsgTpgAmY7PhCfg==',
    contentType: 'application/octet-stream',
    timeCreated: new Date(NOW).toISOString(),
    updated: new Date(NOW).toISOString(),
  };
}

async function complete(fields: Partial<SessionRecord>) {
  const s = session(fields);
  await store.createSession(s);
  return { session: s, result: await store.completeUpload(s, draft(s)) };
}

describe('schema migrations', () => {
  it('are applied once when several servers start together, and recorded', async () => {
    const db = await freshDatabase();
    const pools = Array.from({ length: 5 }, () => createPool(db.url, silentLogger));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      const latest = migrations[migrations.length - 1]!.version;
      assert.equal(results.filter((r) => r.from === 0).length, 1, 'one server migrated');
      assert.ok(results.every((r) => r.to === latest));
      const { rows } = await pools[0]!.query<{ version: number }>(
        'SELECT version FROM spool_migrations ORDER BY version',
      );
      assert.deepEqual(
        rows.map((r) => r.version),
        migrations.map((m) => m.version),
      );
      assert.deepEqual(await migrate(pools[0]!), { from: latest, to: latest });
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
    }
  });

  it('refuse a database that a newer Spool migrated', async () => {
    const db = await freshDatabase();
    const pool = createPool(db.url, silentLogger);
    try {
      await migrate(pool);
      await pool.query("INSERT INTO spool_migrations (version, name) VALUES (999, 'future')");
      await assert.rejects(migrate(pool), /schema is version 999, newer than this server's/);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});

describe('sessions', () => {
  it('are stored, replaced and deleted by id', async () => {
    const s = session({ metadata: { metadata: { note: 'a\u0000b ü' } } });
    await store.createSession(s);
    assert.deepEqual(await store.getSession(s.id), asStored(s));
    const next = { ...s, persisted: 262144, blobState: { s3: 1, parts: [], pieces: [] } };
    await store.putSession(next);
    assert.deepEqual(await store.getSession(s.id), asStored(next));
    await store.deleteSession(s.id);
    assert.equal(await store.getSession(s.id), undefined);
  });

  it('are listed when expired, all of them, across pages', async () => {
    const base = NOW - 10_000_000;
    const expired = Array.from({ length: 450 }, (_, i) => session({ expiresAt: base + i }));
    for (const s of expired) await store.createSession(s);
    await store.createSession(session({ expiresAt: NOW + 10_000 }));
    const seen: string[] = [];
    for await (const s of store.expiredSessions(NOW)) seen.push(s.id);
    assert.deepEqual(
      seen,
      expired.map((s) => s.id),
    );
  });
});

describe('completing uploads', () => {
  it('gives each new object a greater generation and releases the replaced blob', async () => {
    const first = await complete({ name: 'gen.bin' });
    assert.ok(first.result.ok);
    const second = await complete({ name: 'gen.bin' });
    assert.ok(second.result.ok);
    assert.ok(BigInt(second.result.object.generation) > BigInt(first.result.object.generation));
    assert.equal(second.result.replaced?.blobId, first.session.blobId);
    const final = await store.getSession(second.session.id);
    assert.equal(final?.status, 'final');
    assert.deepEqual(final?.object, second.result.object);

    const released: string[] = [];
    await store.deleteReleasedBlobs((id) => {
      released.push(id);
      return Promise.resolve();
    });
    assert.ok(released.includes(first.session.blobId));
    assert.equal(await store.deleteReleasedBlobs(() => Promise.resolve()), 0, 'handed over once');
  });

  it('checks preconditions in the same transaction, failing the session for good', async () => {
    await complete({ name: 'pre.bin' });
    const { session: s, result } = await complete({
      name: 'pre.bin',
      preconditions: { ifGenerationMatch: '0' },
    });
    assert.ok(!result.ok);
    assert.equal(result.error.status, 412);
    assert.equal((await store.getSession(s.id))?.status, 'failed');
  });

  it('serializes commits of one name from several servers', async () => {
    const other = new PgMetadataStore(createPool(database.url, silentLogger));
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const s = session({ name: 'race.bin' });
          await store.createSession(s);
          return (i % 2 ? other : store).completeUpload(s, draft(s));
        }),
      );
      const generations = results.map((r) => (r.ok ? r.object.generation : ''));
      assert.equal(new Set(generations).size, 8, generations.join());
      const current = await store.getObject('bucket-a', 'race.bin');
      assert.equal(current?.generation, [...generations].sort().at(-1));
    } finally {
      await other.close();
    }
  });

  it('answers 404 for a bucket deleted meanwhile', async () => {
    await store.createBucket({
      name: 'short-lived',
      timeCreated: '',
      updated: '',
      metageneration: '1',
      location: 'US',
      storageClass: 'STANDARD',
    });
    const s = session({ bucket: 'short-lived' });
    await store.createSession(s);
    assert.equal(await store.deleteBucket('short-lived'), 'deleted');
    const result = await store.completeUpload(s, draft(s));
    assert.ok(!result.ok);
    assert.equal(result.error.status, 404);
  });

  it('keeps a bucket with objects', async () => {
    await complete({ bucket: 'bucket-b', name: 'x' });
    assert.equal(await store.deleteBucket('bucket-b'), 'not-empty');
    const object = await store.getObject('bucket-b', 'x');
    assert.ok(await store.deleteObject('bucket-b', 'x', object!.generation));
    assert.equal(await store.deleteBucket('bucket-b'), 'deleted');
    assert.equal(await store.deleteBucket('bucket-b'), 'not-found');
  });
});

describe('listing', () => {
  it('orders names by code point, groups prefixes and pages through many names', async () => {
    const names = [
      '\u{1F600}',
      '\uFF00',
      'a/1',
      'a/2',
      'b',
      ...Array.from({ length: 430 }, (_, i) => `many/${String(i).padStart(3, '0')}`),
    ];
    for (const name of names) await complete({ bucket: 'bucket-a', name: `list/${name}` });

    const top = await store.listObjects('bucket-a', {
      prefix: 'list/',
      delimiter: '/',
      after: undefined,
      maxResults: 1000,
      startOffset: undefined,
      endOffset: undefined,
      includeTrailingDelimiter: false,
    });
    assert.deepEqual(
      top.items.map((o) => o.name),
      ['list/b', 'list/\uFF00', 'list/\u{1F600}'],
    );
    assert.deepEqual(top.prefixes, ['list/a/', 'list/many/']);

    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await store.listObjects('bucket-a', {
        prefix: 'list/many/',
        delimiter: undefined,
        after,
        maxResults: 170,
        startOffset: undefined,
        endOffset: undefined,
        includeTrailingDelimiter: false,
      });
      seen.push(...page.items.map((o) => o.name));
      after = page.nextAfter;
    } while (after !== undefined);
    assert.deepEqual(
      seen,
      names.filter((n) => n.startsWith('many/')).map((n) => `list/${n}`),
    );
  });
});
