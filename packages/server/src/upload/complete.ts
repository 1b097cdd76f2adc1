import {
  UploadHasher,
  hashProblem,
  type DeclaredHashes,
  type HashState,
  type ProtocolError,
  type StoredObject,
} from '@spool/core';
import type { Services } from '../services.js';
import type { SessionRecord } from '../store/types.js';

export type Completion =
  | { readonly ok: true; readonly object: StoredObject }
  | { readonly ok: false; readonly error: ProtocolError };

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
  const now = new Date(app.now()).toISOString();
  const metadata = { ...session.metadata.metadata, ...finalRequest.customMetadata };
  const result = await app.metadata.completeUpload(session, {
    ...session.metadata,
    bucket: session.bucket,
    name: session.name,
    blobId: session.blobId,
    metageneration: '1',
    size,
    crc32c: computed.crc32c,
    md5Hash: computed.md5Hash,
    contentType: session.metadata.contentType ?? 'application/octet-stream',
    ...(Object.keys(metadata).length > 0 && { metadata }),
    timeCreated: now,
    updated: now,
  });
  if (!result.ok) {
    await app.blobs.delete(session.blobId);
    return result;
  }
  if (result.replaced && result.replaced.blobId !== session.blobId)
    await app.blobs.delete(result.replaced.blobId);
  const { blobId: _blobId, ...object } = result.object;
  return { ok: true, object };
}

/** Marks a session failed for good, with the error every later request gets, and frees its data. */
export async function failSession(
  app: Services,
  session: SessionRecord,
  error: ProtocolError,
): Promise<void> {
  await app.metadata.putSession({ ...session, status: 'failed', failure: error });
  await app.blobs.delete(session.blobId);
}
