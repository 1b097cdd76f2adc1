import {
  UploadHasher,
  hashProblem,
  type DeclaredHashes,
  type HashState,
  type ObjectMetadata,
  type ProtocolError,
  type StoredObject,
} from '@spool/core';
import type { Services } from '../services.js';
import type { CompleteResult, ObjectRecord, SessionRecord } from '../store/types.js';

export type Completion =
  | { readonly ok: true; readonly object: StoredObject }
  | { readonly ok: false; readonly error: ProtocolError };

/** What an upload is about to become. */
export interface ObjectTarget {
  readonly bucket: string;
  readonly name: string;
  readonly metadata: ObjectMetadata;
  /** X-Goog-Meta-* headers of the final request, added to the metadata. */
  readonly customMetadata?: Readonly<Record<string, string>>;
}

/** The object record an upload of `size` bytes with these hashes becomes (before its generation). */
export function draftObject(
  app: Services,
  target: ObjectTarget,
  blobId: string,
  size: number,
  hashes: { crc32c: string; md5Hash?: string },
): Omit<ObjectRecord, 'generation'> {
  const now = new Date(app.now()).toISOString();
  const metadata = { ...target.metadata.metadata, ...target.customMetadata };
  return {
    ...target.metadata,
    bucket: target.bucket,
    name: target.name,
    blobId,
    metageneration: '1',
    size,
    crc32c: hashes.crc32c,
    ...(hashes.md5Hash !== undefined && { md5Hash: hashes.md5Hash }),
    contentType: target.metadata.contentType ?? 'application/octet-stream',
    metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
    timeCreated: now,
    updated: now,
  };
}

/** After a commit: a refused upload's data goes, and so does the data of the object it replaced. */
export async function afterCommit(
  app: Services,
  result: CompleteResult,
  blobId: string,
): Promise<Completion> {
  if (!result.ok) {
    await app.blobs.delete(blobId);
    return result;
  }
  if (result.replaced && result.replaced.blobId !== blobId)
    await app.blobs.delete(result.replaced.blobId);
  const { blobId: _blobId, ...object } = result.object;
  return { ok: true, object };
}

/**
 * Turns a session whose every byte is stored into an object: verifies the hashes the client
 * declared, then lets the metadata store check preconditions and commit the object atomically.
 * Failures are final for the session, as on GCS: the stored bytes cannot change any more.
 */
export async function completeSession(
  app: Services,
  session: SessionRecord,
  size: number,
  hash: HashState,
  finalRequest: {
    readonly hashes: DeclaredHashes;
    readonly customMetadata: Record<string, string>;
  },
): Promise<Completion> {
  const computed = new UploadHasher(hash).digests();
  const problem = hashProblem(computed, [session.declaredHashes, finalRequest.hashes]);
  if (problem) {
    await failSession(app, session, problem);
    return { ok: false, error: problem };
  }
  await app.blobs.seal(session.blobId, size, session.blobState);
  const draft = draftObject(
    app,
    { ...session, customMetadata: finalRequest.customMetadata },
    session.blobId,
    size,
    computed,
  );
  const completion = await afterCommit(
    app,
    await app.metadata.completeUpload(session, draft),
    session.blobId,
  );
  if (completion.ok) {
    app.metrics.sessionsCompleted.inc();
    app.metrics.objectsStored.inc({ type: session.api === 'xml' ? 'xml' : 'resumable' });
  } else {
    app.metrics.sessionsFailed.inc({ reason: completion.error.reason });
  }
  return completion;
}

/** Marks a session failed for good, with the error every later request gets, and frees its data. */
export async function failSession(
  app: Services,
  session: SessionRecord,
  error: ProtocolError,
): Promise<void> {
  await app.metadata.putSession({ ...session, status: 'failed', failure: error });
  await app.blobs.delete(session.blobId);
  app.metrics.sessionsFailed.inc({ reason: error.reason });
}
