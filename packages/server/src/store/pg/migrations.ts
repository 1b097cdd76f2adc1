import type pg from 'pg';

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The schema, one version after another. A released version is never edited: changes come as a
 * new entry. Names are compared in the "C" collation, which orders UTF-8 by bytes, that is by
 * code point: the order GCS lists objects in. Records are `json`, not `jsonb`, which refuses
 * "\u0000" inside strings (metadata may hold it).
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'buckets, objects, sessions, released blobs',
    sql: `
      CREATE TABLE spool_buckets (
        name text COLLATE "C" PRIMARY KEY,
        record json NOT NULL
      );
      CREATE TABLE spool_objects (
        bucket text COLLATE "C" NOT NULL REFERENCES spool_buckets (name),
        name text COLLATE "C" NOT NULL,
        record json NOT NULL,
        PRIMARY KEY (bucket, name)
      );
      CREATE TABLE spool_sessions (
        key text PRIMARY KEY,
        expires_at bigint NOT NULL,
        status text NOT NULL,
        owner text,
        record json NOT NULL
      );
      CREATE INDEX spool_sessions_expiry ON spool_sessions (expires_at, key);
      CREATE INDEX spool_sessions_open ON spool_sessions (owner) WHERE status = 'active';
      CREATE TABLE spool_released_blobs (
        blob_id text PRIMARY KEY,
        released_at bigint NOT NULL
      );
      CREATE SEQUENCE spool_lock_tickets;
    `,
  },
];

/** Any constant: the advisory lock that lets one server at a time migrate. */
const MIGRATION_LOCK = 0x5350_4f4f_4c01n;

/**
 * Brings the schema to the latest version, in one transaction. Servers starting together take
 * turns on an advisory lock, so each version is applied once; a database already migrated by a
 * newer Spool is refused rather than misread.
 */
export async function migrate(pool: pg.Pool): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS spool_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM spool_migrations',
    );
    const from = rows[0]?.version ?? 0;
    const latest = migrations[migrations.length - 1]!.version;
    if (from > latest) {
      throw new Error(
        `The database's Spool schema is version ${from}, newer than this server's ${latest}: upgrade this server.`,
      );
    }
    for (const m of migrations) {
      if (m.version <= from) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO spool_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
    }
    await client.query('COMMIT');
    return { from, to: latest };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
