import {
  decideChunk,
  parseGoogHash,
  protocolError,
  sessionNotFound,
  sessionSuperseded,
  settleWrite,
  type ChunkRequest,
  type DeclaredHashes,
  type ProtocolError,
  type StoredObject,
  type WritePlan,
} from '@spool/core';
import { uploadBody } from '../http/body.js';
import { header, type Context } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { isSessionIdShape, redactSessionId, sessionKey } from '../ids.js';
import type { Services } from '../services.js';
import type { SessionRecord } from '../store/types.js';
import { customMetadataHeaders } from '../handlers/common.js';
import { bodyTooSlow } from '../http/errors.js';
import { completeSession, failSession } from './complete.js';
import { commitFinal, ingest } from './ingest.js';

/** What a request on a session came to, whichever protocol renders it. */
export type ChunkOutcome =
  | { readonly kind: 'incomplete'; readonly persisted: number }
  | { readonly kind: 'complete'; readonly object: StoredObject; readonly session: SessionRecord }
  | { readonly kind: 'error'; readonly error: ProtocolError };

/**
 * Runs `fn` on a session with its lease held (one writer per session; a newer request makes an
 * older one stop). Unknown, malformed, expired and other-bucket session IDs are all a 404.
 */
export async function withSession<T>(
  app: Services,
  ctx: Context,
  id: string,
  where: { readonly bucket: string; readonly name?: string },
  fn: (session: SessionRecord, superseded: AbortSignal) => Promise<T>,
): Promise<T> {
  if (!isSessionIdShape(id)) throw new HttpError(sessionNotFound());
  ctx.logFields['session'] = redactSessionId(id);
  const lease = await app.locks.acquire(sessionKey(id));
  try {
    const session = await app.metadata.getSession(id);
    if (
      !session ||
      session.bucket !== where.bucket ||
      (where.name !== undefined && session.name !== where.name) ||
      app.now() >= session.expiresAt
    ) {
      throw new HttpError(sessionNotFound());
    }
    ctx.res.setHeader('x-guploader-uploadid', id);
    return await fn(session, lease.superseded);
  } finally {
    await lease.release();
  }
}

/** Carries out the decision table for one data, status or completion request. */
export async function runChunk(
  app: Services,
  ctx: Context,
  session: SessionRecord,
  request: ChunkRequest,
  superseded: AbortSignal,
): Promise<ChunkOutcome> {
  const decision = decideChunk(session, request, app.now(), app.limits.maxObjectSize);
  ctx.logFields['decision'] = decision.kind;
  switch (decision.kind) {
    case 'replay':
      return replay(session);
    case 'reject':
      if (decision.failSession) await failSession(app, session, decision.error);
      return { kind: 'error', error: decision.error };
    case 'status':
      return { kind: 'incomplete', persisted: session.persisted };
    case 'finalize': {
      const hashes = parseGoogHash(header(ctx, 'x-goog-hash'));
      if (!hashes.ok) return { kind: 'error', error: hashes.error };
      return finish(app, ctx, session, hashes.value);
    }
    case 'write':
      return write(app, ctx, session, decision.plan, superseded);
  }
}

async function write(
  app: Services,
  ctx: Context,
  session: SessionRecord,
  plan: WritePlan,
  superseded: AbortSignal,
): Promise<ChunkOutcome> {
  // Declared hashes are checked before any byte is taken, so a malformed header touches nothing.
  const hashes = parseGoogHash(header(ctx, 'x-goog-hash'));
  if (!hashes.ok) return { kind: 'error', error: hashes.error };

  const writer = await app.blobs.openWriter(session.blobId, {
    offset: session.persisted,
    state: session.blobState,
    expectedSize: plan.total ?? session.total ?? session.declaredSize,
  });
  let current = session;
  const body = uploadBody(ctx.req, app.limits, superseded);
  let result;
  try {
    result = await ingest(body, writer, plan, {
      persisted: session.persisted,
      hash: session.hash,
      checkpoint: async (persisted, hash, blobState) => {
        current = { ...current, persisted, hash, blobState };
        await app.metadata.putSession(current);
      },
      interrupt: ctx.faults.upload(superseded),
    });
  } catch (error) {
    body.stop('interrupted');
    await writer.abandon();
    throw error;
  }
  ctx.logFields['received'] = result.received;
  // An injected stop keeps every byte up to its offset, aligned or not, as the testbench does.
  const settlement = settleWrite(
    current,
    plan,
    result.received,
    result.end === 'complete',
    result.end === 'stopped',
  );
  if (settlement.kind === 'reject') {
    await writer.abandon();
    return { kind: 'error', error: settlement.error };
  }
  const kept = settlement.kind === 'complete' ? settlement.size : settlement.persisted;
  const blobState = await commitFinal(writer, kept);
  const total = settlement.kind === 'complete' ? settlement.size : (plan.total ?? current.total);
  if (kept > session.persisted) app.metrics.bytesReceived.inc({}, kept - session.persisted);
  // A completing request whose blob state did not change skips this record: the final one
  // carries the offset, and a crash before it loses only bytes never acknowledged. (A changed
  // blob state, such as a new S3 part, must be on record before anything else happens.)
  const recordNow = settlement.kind !== 'complete' || blobState !== current.blobState;
  if (kept !== current.persisted || total !== current.total || blobState !== current.blobState) {
    current = { ...current, persisted: kept, total, hash: result.hashAt(kept), blobState };
    if (recordNow) await app.metadata.putSession(current);
  }
  if (settlement.kind === 'complete') return finish(app, ctx, current, hashes.value);
  if (result.answer) return { kind: 'error', error: result.answer };
  if (result.end === 'superseded') return { kind: 'error', error: sessionSuperseded(kept) };
  if (result.end === 'too-slow')
    return { kind: 'error', error: bodyTooSlow(app.limits.minBodyRate, kept) };
  return { kind: 'incomplete', persisted: kept };
}

/** Completes a session whose every byte is stored. */
async function finish(
  app: Services,
  ctx: Context,
  session: SessionRecord,
  hashes: DeclaredHashes,
): Promise<ChunkOutcome> {
  const completion = await completeSession(app, session, session.persisted, session.hash, {
    hashes,
    customMetadata: customMetadataHeaders(ctx.req.headers),
  });
  if (!completion.ok) return { kind: 'error', error: completion.error };
  return { kind: 'complete', object: completion.object, session };
}

export function replay(session: SessionRecord): ChunkOutcome {
  if (session.status === 'final' && session.object)
    return { kind: 'complete', object: session.object, session };
  return {
    kind: 'error',
    error:
      session.failure ??
      protocolError(410, 'gone', 'This upload session failed earlier. Start a new upload.'),
  };
}

/**
 * Cancels a session: it is gone for good. A completed session cannot be cancelled; its
 * completion is replayed instead.
 */
export async function cancelSession(
  app: Services,
  session: SessionRecord,
): Promise<ChunkOutcome | 'cancelled'> {
  if (session.status === 'final') return replay(session);
  if (session.status !== 'cancelled') {
    await app.metadata.putSession({ ...session, status: 'cancelled' });
    await app.blobs.delete(session.blobId);
    app.metrics.sessionsCancelled.inc();
  }
  return 'cancelled';
}

/** Content-Range and Content-Length of a request, as the decision table takes them. */
export function chunkRequestOf(ctx: Context): ChunkRequest {
  const length = header(ctx, 'content-length');
  return {
    contentRange: header(ctx, 'content-range'),
    contentLength: length === undefined ? undefined : Number(length),
  };
}
