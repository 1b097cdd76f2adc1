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

/** Deletes the data of replaced or deleted objects that a crash left behind. */
export function sweepReleasedBlobs(app: Pick<Services, 'metadata' | 'blobs'>): Promise<number> {
  return app.metadata.deleteReleasedBlobs((blobId) => app.blobs.delete(blobId));
}
