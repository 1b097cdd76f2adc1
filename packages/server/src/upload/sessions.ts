import {
  UploadHasher,
  type DeclaredHashes,
  type ObjectMetadata,
  type Preconditions,
} from '@spool/core';
import { newBlobId, newSessionId } from '../ids.js';
import type { Services } from '../services.js';
import type { SessionApi, SessionRecord } from '../store/types.js';

export interface SessionSpec {
  readonly api: SessionApi;
  readonly bucket: string;
  readonly name: string;
  readonly metadata: ObjectMetadata;
  readonly declaredHashes: DeclaredHashes;
  readonly preconditions: Preconditions;
  readonly declaredSize: number | undefined;
  readonly origin: string | undefined;
}

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
