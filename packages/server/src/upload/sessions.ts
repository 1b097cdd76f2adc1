import { UploadHasher } from '@spool/core';
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

/** Starts a resumable session and stores it durably before anyone learns its URI. */
export async function openSession(app: Services, spec: SessionSpec): Promise<SessionRecord> {
  const now = app.now();
  const session: SessionRecord = {
    ...spec,
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
  return session;
}
