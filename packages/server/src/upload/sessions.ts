import { UploadHasher, protocolError, tooLarge } from '@spool/core';
import type { Context } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { newBlobId, newSessionId } from '../ids.js';
import type { Services } from '../services.js';
import type { SessionRecord } from '../store/types.js';

/** What the initiation decides about a session; the rest starts out the same for every session. */
export type SessionSpec = Pick<
  SessionRecord,
  | 'api'
  | 'bucket'
  | 'name'
  | 'metadata'
  | 'declaredHashes'
  | 'preconditions'
  | 'declaredSize'
  | 'origin'
>;

/**
 * Starts a resumable session and stores it durably before anyone learns its URI. Admission comes
 * first: the object-size limit, the session-start rate (per token, or per client address) and
 * the open sessions a token may have.
 */
export async function openSession(
  app: Services,
  ctx: Context,
  spec: SessionSpec,
): Promise<SessionRecord> {
  const now = app.now();
  const { maxObjectSize, maxSessionsPerToken } = app.limits;
  if (spec.declaredSize !== undefined && spec.declaredSize > maxObjectSize) {
    throw new HttpError(tooLarge(spec.declaredSize, maxObjectSize));
  }
  const owner = ctx.principal?.id;
  const admitted = app.sessionRate.take(
    owner ?? `address:${ctx.req.socket.remoteAddress ?? ''}`,
    now,
  );
  if (!admitted.ok) {
    ctx.res.setHeader('retry-after', String(admitted.retryAfterSeconds));
    throw new HttpError(
      protocolError(
        429,
        'rateLimitExceeded',
        `Too many upload sessions started; retry after ${admitted.retryAfterSeconds} second(s) (spool serve --session-rate).`,
        'json',
        'SlowDown',
      ),
    );
  }
  if (owner !== undefined && (await app.metadata.countOpenSessions(owner)) >= maxSessionsPerToken) {
    throw new HttpError(
      protocolError(
        429,
        'rateLimitExceeded',
        `This token already has ${maxSessionsPerToken} open upload sessions: finish or cancel some (DELETE their session URI) before starting more (spool serve --max-sessions-per-token).`,
        'json',
        'SlowDown',
      ),
    );
  }
  const session: SessionRecord = {
    ...spec,
    ...(owner !== undefined && { owner }),
    id: newSessionId(),
    blobId: newBlobId(),
    createdAt: now,
    expiresAt: now + app.sessionTtlMs,
    status: 'active',
    persisted: 0,
    total: undefined,
    hash: new UploadHasher().save(),
  };
  await app.metadata.createSession(session);
  app.metrics.sessionsStarted.inc({ api: spec.api });
  return session;
}
