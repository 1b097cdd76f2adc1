// Session locks across servers through PostgreSQL: a newer request anywhere makes the holder let
// go; a server that dies frees its locks at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  LOCK_CONNECTION_NAME,
  PgLocker,
  createPool,
  migrate,
  silentLogger,
  type Lease,
} from '@spool/server';
import { freshDatabase } from './harness/backends.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
const lockers: PgLocker[] = [];

before(async () => {
  database = await freshDatabase();
  const pool = createPool(database.url, silentLogger);
  await migrate(pool);
  await pool.end();
});
after(async () => {
  for (const locker of lockers) await locker.close();
  await database.drop();
});

/** One server's locker. */
async function server(acquireTimeoutMs?: number): Promise<PgLocker> {
  const locker = await PgLocker.open(database.url, silentLogger, acquireTimeoutMs);
  lockers.push(locker);
  return locker;
}

const superseded = (lease: Lease) =>
  new Promise<void>((resolve) =>
    lease.superseded.aborted
      ? resolve()
      : lease.superseded.addEventListener('abort', () => resolve(), { once: true }),
  );

/** Settles with 'pending' if `promise` has not settled after a moment. */
async function stillPending(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending');
  const winner = await Promise.race([
    promise.then(() => 'settled'),
    new Promise((r) => setTimeout(() => r(pending), 300)),
  ]);
  return winner === pending;
}

describe('session locks through PostgreSQL', () => {
  it('a newer request on another server makes the holder let go, then gets the lock', async () => {
    const [a, b] = [await server(), await server()];
    const held = await a.acquire('session-1');
    const wanted = b.acquire('session-1');
    await superseded(held);
    assert.ok(await stillPending(wanted), 'the holder has not released yet');
    await held.release();
    const next = await wanted;
    assert.equal(next.superseded.aborted, false);
    await next.release();
  });

  it('the newest of several waiting requests ends up with the lock', async () => {
    const [a, b, c] = [await server(), await server(), await server()];
    const held = await a.acquire('session-2');
    const older = b.acquire('session-2');
    await superseded(held);
    const newer = c.acquire('session-2');
    assert.ok(await stillPending(newer));
    await held.release();
    // Whichever waiter gets the lock first, the older one is told to let go, and never tells
    // the newer one to.
    const first = await Promise.race([older, newer]);
    await new Promise((r) => setTimeout(r, 2500)); // past the time a waiter asks again
    await first.release();
    const [olderLease, newerLease] = [await older, await newer];
    assert.ok(olderLease.superseded.aborted, 'the older request was superseded');
    assert.equal(newerLease.superseded.aborted, false);
    await olderLease.release();
    await newerLease.release();
  });

  it('sessions do not wait for each other', async () => {
    const [a, b] = [await server(), await server()];
    const one = await a.acquire('session-3');
    const two = await b.acquire('session-4');
    assert.equal(one.superseded.aborted, false);
    assert.equal(two.superseded.aborted, false);
    await one.release();
    await two.release();
  });

  it('a server whose lock connection dies loses its locks at once, and knows it', async () => {
    const [a, b] = [await server(), await server()];
    const held = await a.acquire('session-5');
    // Ends every lock connection to this database, as PostgreSQL does for a server that died.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = $1 AND datname = current_database()`,
        [LOCK_CONNECTION_NAME],
      );
      assert.ok(rowCount! >= 2);
    } finally {
      await admin.end();
    }
    await superseded(held);
    const taken = await b.acquire('session-5');
    assert.equal(taken.superseded.aborted, false);
    await held.release();
    await taken.release();
    const again = await a.acquire('session-6');
    await again.release();
  });

  it('a holder that never lets go gets newer requests a 503, not a wait forever', async () => {
    const [a, b] = [await server(), await server(200)];
    const held = await a.acquire('session-7');
    await assert.rejects(b.acquire('session-7'), (error: { error?: { status: number } }) => {
      assert.equal(error.error?.status, 503);
      return true;
    });
    await held.release();
  });
});
