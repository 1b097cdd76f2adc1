import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../log.js';

/** A connection pool; connections that drop while idle are logged, not fatal. */
export function createPool(connectionString: string, log: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: 20,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  pool.on('error', (error) =>
    log.warn('PostgreSQL connection lost', { error: String(error.message) }),
  );
  return pool;
}

/** Runs `work` in a transaction: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** A 64-bit advisory lock number for `text` (as the decimal string PostgreSQL takes). */
export function advisoryLockId(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  return digest.readBigInt64BE(0).toString();
}
