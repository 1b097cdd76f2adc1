import { sessionKey } from '../ids.js';
import type { Services } from '../services.js';
import type { SessionRecord } from '../store/types.js';

/** Removes a session and, unless it became an object, its data. */
export async function removeSession(
  app: Pick<Services, 'metadata' | 'blobs'>,
  session: SessionRecord,
): Promise<void> {
  // A final session's blob is its object's data: only the record goes.
  if (session.status !== 'final') await app.blobs.delete(session.blobId);
  await app.metadata.deleteSession(session.id);
}

/** Removes every expired session, taking each one's lease so no request is writing to it. */
export async function sweepExpiredSessions(app: Services): Promise<number> {
  let removed = 0;
  const now = app.now();
  for await (const candidate of app.metadata.expiredSessions(now)) {
    const lease = await app.locks.acquire(sessionKey(candidate.id));
    try {
      const session = await app.metadata.getSession(candidate.id);
      if (session && session.expiresAt <= now) {
        await removeSession(app, session);
        removed++;
      }
    } finally {
      await lease.release();
    }
  }
  return removed;
}

/** A day's margin over the session lifetime before data nobody lists counts as left behind. */
const ORPHAN_MARGIN_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes what crashes left behind: the data of replaced or deleted objects (the metadata store
 * lists them), and data no record lists that is older than any live session.
 */
export async function sweepLeftovers(app: Services): Promise<number> {
  const released = await app.metadata.deleteReleasedBlobs((blobId) => app.blobs.delete(blobId));
  const before = app.now() - app.sessionTtlMs - ORPHAN_MARGIN_MS;
  return released + (await app.blobs.removeOrphans(before));
}
