import type pg from 'pg';
import {
  bucketNotFound,
  preconditionFailed,
  preconditionsHold,
  type Preconditions,
} from '@spool/core';
import { sessionKey } from '../../ids.js';
import { GenerationClock } from '../generation.js';
import { listNames } from '../listing.js';
import type {
  BucketRecord,
  CompleteResult,
  ListObjectsPage,
  ListObjectsQuery,
  MetadataStore,
  ObjectRecord,
  SessionRecord,
} from '../types.js';
import { advisoryLockId, inTransaction } from './pool.js';

/** Rows fetched at a time when scanning names or sessions. */
const BATCH = 200;

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * Sessions, objects and buckets in PostgreSQL (schema in migrations.ts), shared by every server
 * on the database. Each method is one statement or one transaction, so a crash at any instant
 * leaves the previous state or the next one.
 */
export class PgMetadataStore implements MetadataStore {
  private readonly generations = new GenerationClock();

  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => number = Date.now,
  ) {}

  async createBucket(bucket: BucketRecord): Promise<'created' | 'exists'> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO spool_buckets (name, record) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
      [bucket.name, JSON.stringify(bucket)],
    );
    return rowCount === 1 ? 'created' : 'exists';
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    const { rows } = await this.pool.query<{ record: BucketRecord }>(
      'SELECT record FROM spool_buckets WHERE name = $1',
      [name],
    );
    return rows[0]?.record;
  }

  async listBuckets(): Promise<BucketRecord[]> {
    const { rows } = await this.pool.query<{ record: BucketRecord }>(
      'SELECT record FROM spool_buckets ORDER BY name',
    );
    return rows.map((r) => r.record);
  }

  async deleteBucket(name: string): Promise<'deleted' | 'not-found' | 'not-empty'> {
    return inTransaction(this.pool, async (c) => {
      const found = await c.query('SELECT 1 FROM spool_buckets WHERE name = $1 FOR UPDATE', [name]);
      if (found.rowCount === 0) return 'not-found';
      const objects = await c.query('SELECT 1 FROM spool_objects WHERE bucket = $1 LIMIT 1', [
        name,
      ]);
      if (objects.rowCount !== 0) return 'not-empty';
      await c.query('DELETE FROM spool_buckets WHERE name = $1', [name]);
      return 'deleted';
    });
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO spool_sessions (key, expires_at, status, owner, record)
       VALUES ($1, $2, $3, $4, $5)`,
      sessionRow(session),
    );
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const { rows } = await this.pool.query<{ record: SessionRecord }>(
      'SELECT record FROM spool_sessions WHERE key = $1',
      [sessionKey(id)],
    );
    return rows[0]?.record;
  }

  async putSession(session: SessionRecord): Promise<void> {
    await writeSession(this.pool, session);
  }

  async deleteSession(id: string): Promise<void> {
    await this.pool.query('DELETE FROM spool_sessions WHERE key = $1', [sessionKey(id)]);
  }

  async countOpenSessions(owner?: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      owner === undefined
        ? "SELECT count(*) AS n FROM spool_sessions WHERE status = 'active'"
        : "SELECT count(*) AS n FROM spool_sessions WHERE status = 'active' AND owner = $1",
      owner === undefined ? [] : [owner],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async *expiredSessions(now: number): AsyncIterable<SessionRecord> {
    let after = { expiresAt: '-1', key: '' };
    while (true) {
      const { rows } = await this.pool.query<{
        key: string;
        expires_at: string;
        record: SessionRecord;
      }>(
        `SELECT key, expires_at, record FROM spool_sessions
          WHERE expires_at <= $1 AND (expires_at, key) > ($2, $3)
          ORDER BY expires_at, key LIMIT ${BATCH}`,
        [now, after.expiresAt, after.key],
      );
      for (const row of rows) yield row.record;
      if (rows.length < BATCH) return;
      const last = rows[rows.length - 1]!;
      after = { expiresAt: last.expires_at, key: last.key };
    }
  }

  async getObject(bucket: string, name: string): Promise<ObjectRecord | undefined> {
    return readObject(this.pool, bucket, name);
  }

  async listObjects(bucket: string, query: ListObjectsQuery): Promise<ListObjectsPage> {
    const page = await listNames((from) => this.namesFrom(bucket, from), query);
    if (page.names.length === 0)
      return { items: [], prefixes: page.prefixes, nextAfter: page.nextAfter };
    const { rows } = await this.pool.query<{ name: string; record: ObjectRecord }>(
      'SELECT name, record FROM spool_objects WHERE bucket = $1 AND name = ANY($2)',
      [bucket, page.names],
    );
    const byName = new Map(rows.map((r) => [r.name, r.record]));
    const items = page.names.flatMap((n) => byName.get(n) ?? []);
    return { items, prefixes: page.prefixes, nextAfter: page.nextAfter };
  }

  /** Object names >= `from`, in code point order, a batch at a time. */
  private async *namesFrom(bucket: string, from: string): AsyncIterable<string> {
    let bound = from;
    let op = '>=';
    while (true) {
      const { rows } = await this.pool.query<{ name: string }>(
        `SELECT name FROM spool_objects WHERE bucket = $1 AND name ${op} $2
          ORDER BY name LIMIT ${BATCH}`,
        [bucket, bound],
      );
      for (const row of rows) yield row.name;
      if (rows.length < BATCH) return;
      bound = rows[rows.length - 1]!.name;
      op = '>';
    }
  }

  async completeUpload(
    session: SessionRecord,
    draft: Omit<ObjectRecord, 'generation'>,
  ): Promise<CompleteResult> {
    return inTransaction(this.pool, async (c) => {
      const outcome = await this.commit(c, draft, session.preconditions);
      await writeSession(
        c,
        outcome.ok
          ? { ...session, status: 'final', object: outcome.object }
          : { ...session, status: 'failed', failure: outcome.error },
      );
      return outcome;
    });
  }

  async commitObject(
    draft: Omit<ObjectRecord, 'generation'>,
    preconditions: Preconditions,
  ): Promise<CompleteResult> {
    return inTransaction(this.pool, (c) => this.commit(c, draft, preconditions));
  }

  /** In a transaction: checks the bucket and preconditions, and stores the object. */
  private async commit(
    c: Queryable,
    draft: Omit<ObjectRecord, 'generation'>,
    preconditions: Preconditions,
  ): Promise<CompleteResult> {
    await lockObject(c, draft.bucket, draft.name);
    // Keeps the bucket from being deleted until this commits.
    const bucket = await c.query('SELECT 1 FROM spool_buckets WHERE name = $1 FOR KEY SHARE', [
      draft.bucket,
    ]);
    const current = await readObject(c, draft.bucket, draft.name);
    if (bucket.rowCount === 0) return { ok: false, error: bucketNotFound() };
    if (!preconditionsHold(preconditions, current))
      return { ok: false, error: preconditionFailed() };
    const object: ObjectRecord = {
      ...draft,
      generation: this.generations.next(current?.generation),
    };
    await c.query(
      `INSERT INTO spool_objects (bucket, name, record) VALUES ($1, $2, $3)
       ON CONFLICT (bucket, name) DO UPDATE SET record = EXCLUDED.record`,
      [object.bucket, object.name, JSON.stringify(object)],
    );
    if (current && current.blobId !== object.blobId) await this.release(c, current.blobId);
    return { ok: true, object, replaced: current };
  }

  async putObjectMetadata(object: ObjectRecord, expectedMetageneration: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE spool_objects SET record = $3
        WHERE bucket = $1 AND name = $2
          AND record->>'generation' = $4 AND record->>'metageneration' = $5`,
      [
        object.bucket,
        object.name,
        JSON.stringify(object),
        object.generation,
        expectedMetageneration,
      ],
    );
    return rowCount === 1;
  }

  async deleteObject(
    bucket: string,
    name: string,
    generation: string,
  ): Promise<ObjectRecord | undefined> {
    return inTransaction(this.pool, async (c) => {
      await lockObject(c, bucket, name);
      const current = await readObject(c, bucket, name);
      if (!current || current.generation !== generation) return undefined;
      await c.query('DELETE FROM spool_objects WHERE bucket = $1 AND name = $2', [bucket, name]);
      await this.release(c, current.blobId);
      return current;
    });
  }

  /** Notes, in the transaction that stops referring to it, that a blob is to be deleted. */
  private async release(c: Queryable, blobId: string): Promise<void> {
    await c.query(
      `INSERT INTO spool_released_blobs (blob_id, released_at) VALUES ($1, $2)
       ON CONFLICT (blob_id) DO NOTHING`,
      [blobId, this.now()],
    );
  }

  async deleteReleasedBlobs(deleteBlob: (blobId: string) => Promise<void>): Promise<number> {
    let total = 0;
    while (true) {
      // Several servers may sweep at once: each takes rows the others have not locked.
      const done = await inTransaction(this.pool, async (c) => {
        const { rows } = await c.query<{ blob_id: string }>(
          `SELECT blob_id FROM spool_released_blobs ORDER BY released_at
            LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        );
        for (const row of rows) await deleteBlob(row.blob_id);
        if (rows.length > 0) {
          await c.query('DELETE FROM spool_released_blobs WHERE blob_id = ANY($1)', [
            rows.map((r) => r.blob_id),
          ]);
        }
        return rows.length;
      });
      total += done;
      if (done < BATCH) return total;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function writeSession(c: Queryable, session: SessionRecord): Promise<unknown> {
  return c.query(
    `INSERT INTO spool_sessions (key, expires_at, status, owner, record)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at,
       status = EXCLUDED.status, owner = EXCLUDED.owner, record = EXCLUDED.record`,
    sessionRow(session),
  );
}

/** The columns of a session row: what queries select on, and the record. */
function sessionRow(session: SessionRecord): unknown[] {
  return [
    sessionKey(session.id),
    session.expiresAt,
    session.status,
    session.owner ?? null,
    JSON.stringify(session),
  ];
}

async function readObject(
  c: Queryable,
  bucket: string,
  name: string,
): Promise<ObjectRecord | undefined> {
  const { rows } = await c.query<{ record: ObjectRecord }>(
    'SELECT record FROM spool_objects WHERE bucket = $1 AND name = $2',
    [bucket, name],
  );
  return rows[0]?.record;
}

/** Serializes the commits of one object name, whether or not it exists yet. */
async function lockObject(c: Queryable, bucket: string, name: string): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [advisoryLockId(`object:${bucket}/${name}`)]);
}
