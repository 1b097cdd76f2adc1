import {
  UploadHasher,
  hashProblem,
  protocolError,
  settleWrite,
  tooLarge,
  type DeclaredHashes,
  type Preconditions,
  type ProtocolError,
  type WritePlan,
} from '@spool/core';
import type { ChunkSource } from '../http/body.js';
import { bodyTooSlow } from '../http/errors.js';
import { newBlobId } from '../ids.js';
import type { Services } from '../services.js';
import { afterCommit, draftObject, type Completion, type ObjectTarget } from './complete.js';
import { commitFinal, ingest, type IngestInterrupt } from './ingest.js';

export interface OneShotUpload extends ObjectTarget {
  /** How the object arrived, for metrics. */
  readonly kind: 'media' | 'multipart' | 'xml' | 'compose';
  /** The body's length when announced (Content-Length), so a short body is noticed. */
  readonly size: number | undefined;
  readonly declaredHashes: readonly DeclaredHashes[];
  readonly preconditions: Preconditions;
  /** For composed objects: how many uploads they are made of. They get no MD5, as on GCS. */
  readonly componentCount?: number;
  /** A last check of the whole body before the object is committed. */
  readonly verify?: () => ProtocolError | undefined;
  /** Fault injection: a stop keeps nothing here, as nothing of a one-request upload is kept. */
  readonly interrupt?: IngestInterrupt | undefined;
}

const cutOff = () =>
  protocolError(
    400,
    'invalid',
    'The request body ended before it was complete; nothing was stored. Send the upload again.',
  );

/**
 * Stores an object sent in one request (uploadType=media or multipart, XML PUT): the bytes go to a
 * blob that stays invisible until the object is committed, so a failure at any point leaves nothing.
 */
export async function storeOneShot(
  app: Services,
  source: ChunkSource,
  upload: OneShotUpload,
): Promise<Completion> {
  const max = app.limits.maxObjectSize;
  if (upload.size !== undefined && upload.size > max)
    return { ok: false, error: tooLarge(upload.size, max) };
  const blobId = newBlobId();
  const writer = await app.blobs.openOneShotWriter(blobId);
  const plan: WritePlan = {
    start: 0,
    skip: 0,
    limit: upload.size ?? max,
    exact: upload.size !== undefined,
    completesAt: 'end-of-body',
    total: upload.size,
  };
  const initial = new UploadHasher().save();
  let result;
  try {
    result = await ingest(source, writer, plan, {
      persisted: 0,
      hash: initial,
      interrupt: upload.interrupt,
    });
  } catch (error) {
    source.stop('interrupted');
    await writer.abandon();
    throw error;
  }
  if (result.answer) {
    await writer.abandon();
    return { ok: false, error: result.answer };
  }
  const settlement = settleWrite(
    { persisted: 0 },
    plan,
    result.received,
    result.end === 'complete',
  );
  if (settlement.kind !== 'complete') {
    await writer.abandon();
    if (result.end === 'too-slow')
      return { ok: false, error: bodyTooSlow(app.limits.minBodyRate, undefined) };
    if (settlement.kind === 'reject' && result.end === 'overrun' && upload.size === undefined) {
      return { ok: false, error: tooLarge(result.received, max) };
    }
    return { ok: false, error: settlement.kind === 'reject' ? settlement.error : cutOff() };
  }
  await commitFinal(writer, settlement.size);
  const computed = new UploadHasher(result.hashAt(settlement.size)).digests();
  const problem = hashProblem(computed, upload.declaredHashes) ?? upload.verify?.();
  if (problem) {
    await app.blobs.delete(blobId);
    return { ok: false, error: problem };
  }
  const hashes = upload.componentCount === undefined ? computed : { crc32c: computed.crc32c };
  const draft = {
    ...draftObject(app, upload, blobId, settlement.size, hashes),
    ...(upload.componentCount !== undefined && { componentCount: upload.componentCount }),
  };
  const completion = await afterCommit(
    app,
    await app.metadata.commitObject(draft, upload.preconditions),
    blobId,
  );
  if (completion.ok) {
    app.metrics.objectsStored.inc({ type: upload.kind });
    app.metrics.bytesReceived.inc({}, settlement.size);
  }
  return completion;
}
