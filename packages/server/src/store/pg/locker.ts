import pg from 'pg';
import { protocolError } from '@spool/core';
import { HttpError } from '../../http/errors.js';
import { SessionLocks, type Lease, type Locker } from '../../locks.js';
import type { Logger } from '../../log.js';
import { advisoryLockId } from './pool.js';

/**
 * Channels: "please let go of KEY" (payload "KEY TICKET") and "KEY is free" (payload "KEY"). A
 * ticket comes from a PostgreSQL sequence when a request starts to acquire, so tickets order
 * requests across servers: a request to let go concerns only requests with smaller tickets (one
 * that arrives late, after a newer request started waiting, does not stop the newer one).
 */
const RELEASE_CHANNEL = 'spool_lock_release';
const FREED_CHANNEL = 'spool_lock_freed';

/** A waiter tries again at least this often, in case a notification was missed. */
const RETRY_MS = 250;
/** ... and asks the holder again this often. */
const ASK_AGAIN_MS = 2_000;
/** A holder that does not let go within this time gets the waiter a 503 (clients retry). */
const ACQUIRE_TIMEOUT_MS = 30_000;

/** How PostgreSQL lists the lock connection (pg_stat_activity.application_name). */
export const LOCK_CONNECTION_NAME = 'spool session locks';

interface Holder {
  /** Set when the request starts acquiring; greater for newer requests. */
  ticket: bigint;
  readonly controller: AbortController;
  /** The connection holding the lock, once held. */
  connection: pg.Client | undefined;
  wake: (() => void) | undefined;
}

/**
 * One writer per session across every server on the database: a PostgreSQL advisory lock per
 * session, taken on one connection per server. A newer request asks the holder to let go with a
 * NOTIFY; the holder's server hears it and supersedes the request, which persists what it has and
 * releases. If a server dies, PostgreSQL sees its connection close and frees its locks at once:
 * no lease to wait out. Within a server, `SessionLocks` orders requests first, so each server
 * holds a session's lock for one request at a time.
 *
 * If the lock connection breaks, PostgreSQL has freed those locks: every holder here is
 * superseded at once, and the next acquisition opens a new connection.
 */
export class PgLocker implements Locker {
  private readonly local = new SessionLocks();
  private readonly holders = new Map<string, Holder>();
  private connecting: Promise<pg.Client> | undefined;
  /** The lock connection, while it works. */
  private current: pg.Client | undefined;
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly log: Logger,
    private readonly acquireTimeoutMs = ACQUIRE_TIMEOUT_MS,
  ) {}

  /** Opens the lock connection now, so that a wrong URL fails at start. */
  static async open(
    connectionString: string,
    log: Logger,
    acquireTimeoutMs = ACQUIRE_TIMEOUT_MS,
  ): Promise<PgLocker> {
    const locker = new PgLocker(connectionString, log, acquireTimeoutMs);
    await locker.client();
    return locker;
  }

  async acquire(key: string): Promise<Lease> {
    const local = await this.local.acquire(key);
    const holder: Holder = {
      ticket: 0n,
      controller: new AbortController(),
      connection: undefined,
      wake: undefined,
    };
    const supersede = () => holder.controller.abort();
    local.superseded.addEventListener('abort', supersede, { once: true });
    if (local.superseded.aborted) supersede();
    this.holders.set(key, holder);
    try {
      await this.lock(key, holder);
    } catch (error) {
      this.forget(key, holder);
      await local.release();
      throw error;
    }
    let released = false;
    return {
      superseded: holder.controller.signal,
      release: async () => {
        if (released) return;
        released = true;
        await this.unlock(key, holder);
        this.forget(key, holder);
        await local.release();
      },
    };
  }

  private forget(key: string, holder: Holder): void {
    if (this.holders.get(key) === holder) this.holders.delete(key);
  }

  private async lock(key: string, holder: Holder): Promise<void> {
    const id = advisoryLockId(key);
    const deadline = Date.now() + this.acquireTimeoutMs;
    let askedAt = 0;
    while (true) {
      const client = await this.client();
      try {
        if (holder.ticket === 0n) {
          const { rows } = await client.query<{ ticket: string }>(
            "SELECT nextval('spool_lock_tickets') AS ticket",
          );
          holder.ticket = BigInt(rows[0]!.ticket);
        }
        const { rows } = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1) AS locked',
          [id],
        );
        if (rows[0]?.locked) {
          holder.connection = client;
          return;
        }
        // A waiter that a newer request superseded in turn asks no one to let go.
        if (!holder.controller.signal.aborted && Date.now() - askedAt >= ASK_AGAIN_MS) {
          await client.query('SELECT pg_notify($1, $2)', [
            RELEASE_CHANNEL,
            `${key} ${holder.ticket}`,
          ]);
          askedAt = Date.now();
        }
      } catch (error) {
        // A connection that broke is replaced on the next round; other errors are real. The
        // query may fail before the connection reports its end, so recognise the error itself.
        if (isConnectionFailure(error)) this.lost(client, error as Error);
        else if (client === this.current) throw error;
      }
      if (Date.now() >= deadline) throw new HttpError(busy());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        holder.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      holder.wake = undefined;
    }
  }

  private async unlock(key: string, holder: Holder): Promise<void> {
    const client = holder.connection;
    holder.connection = undefined;
    // On a connection that broke, PostgreSQL has freed the lock already.
    if (!client || client !== this.current) return;
    try {
      await client.query('SELECT pg_advisory_unlock($1), pg_notify($2, $3)', [
        advisoryLockId(key),
        FREED_CHANNEL,
        key,
      ]);
    } catch (error) {
      this.log.warn('could not release a session lock', { error: String(error) });
    }
  }

  private client(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('the session locker is closed'));
    if (this.current) return Promise.resolve(this.current);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      application_name: LOCK_CONNECTION_NAME,
    });
    client.on('notification', (message) => this.heard(message.channel, message.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection closed')));
    try {
      await client.connect();
      await this.prepare(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.current = client;
    return client;
  }

  private async prepare(client: pg.Client): Promise<void> {
    // PostgreSQL frees a dead server's locks when it notices the connection is gone: have it
    // probe an idle connection after 10 s, rather than after the system's two hours, and give
    // up on unacknowledged data (a NOTIFY to a machine that vanished) after 25 s.
    await client.query(
      'SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3; SET tcp_user_timeout = 25000',
    );
    await client.query(`LISTEN ${RELEASE_CHANNEL}; LISTEN ${FREED_CHANNEL}`);
  }

  private heard(channel: string, payload: string): void {
    if (channel === RELEASE_CHANNEL) {
      const [key = '', ticket = ''] = payload.split(' ');
      const holder = this.holders.get(key);
      if (holder && holder.ticket !== 0n && /^\d+$/.test(ticket) && holder.ticket < BigInt(ticket))
        holder.controller.abort();
    } else if (channel === FREED_CHANNEL) {
      this.holders.get(payload)?.wake?.();
    }
  }

  /** The lock connection broke: its locks are gone, so every holder here must stop. */
  private lost(client: pg.Client, error: Error): void {
    if (client !== this.current) return;
    this.current = undefined;
    void client.end().catch(() => undefined);
    if (!this.closed) this.log.warn('session lock connection lost', { error: error.message });
    for (const holder of this.holders.values()) {
      if (holder.connection === client) holder.controller.abort();
    }
  }

  supersedeAll(): void {
    this.local.supersedeAll();
  }

  get active(): number {
    return this.local.active;
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.current ?? (await this.connecting?.catch(() => undefined));
    this.current = undefined;
    await client?.end().catch(() => undefined);
  }
}

const busy = () =>
  protocolError(
    503,
    'backendError',
    'Another request is still writing to this upload session and did not stop in time. Retry; ask for the upload status first.',
  );

/** Errors that mean the connection is gone (SQLSTATE classes 08 and 57P, or a socket that closed). */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'))) return true;
  return /Connection terminated|connection is closed|ECONNRESET|EPIPE/i.test(
    String((error as Error)?.message),
  );
}
