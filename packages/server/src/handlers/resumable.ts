import {
  MAX_OBJECT_SIZE,
  incompleteResponse,
  objectResource,
  parseGoogHash,
  parseInitiationBody,
  parsePreconditions,
  protocolError,
  sessionNotFound,
  decideChunk,
  settleWrite,
  sessionSuperseded,
  tooLarge,
  UploadHasher,
  type InitiationBody,
  type WritePlan,
} from '@spool/core';
import { BodyReader, readSmallBody } from '../http/body.js';
import { header, type Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import { sendEmpty, sendError, sendJson } from '../http/respond.js';
import { isSessionIdShape, newBlobId, newSessionId, redactSessionId, sessionKey } from '../ids.js';
import type { Services } from '../services.js';
import type { SessionRecord } from '../store/types.js';
import { completeSession, failSession } from '../upload/complete.js';
import { ingest } from '../upload/ingest.js';
import { customMetadataHeaders, requireBucket, requireObjectName } from './common.js';

/** Initiation bodies are object metadata: small. */
const MAX_INITIATION_BODY = 64 * 1024;

/** `POST /upload/storage/v1/b/{bucket}/o?uploadType=resumable`: starts a session. */
export async function initiateResumable(
  app: Services,
  ctx: Context,
  bucket: string,
): Promise<void> {
  await requireBucket(app, bucket);
  const body = await readInitiationBody(ctx);
  const name = resolveObjectName(ctx.query.get('name'), body.name);
  const declaredSize = parseDeclaredSize(header(ctx, 'x-upload-content-length'));
  const preconditions = parsePreconditions((n) => ctx.query.get(n));
  if (!preconditions.ok) throw new HttpError(preconditions.error);
  const contentType = body.contentType ?? header(ctx, 'x-upload-content-type') ?? undefined;

  const id = newSessionId();
  const now = app.now();
  const { name: _name, crc32c, md5Hash, ...metadata } = body;
  const session: SessionRecord = {
    id,
    blobId: newBlobId(),
    api: 'json',
    bucket,
    name,
    metadata: { ...metadata, ...(contentType ? { contentType } : {}) },
    declaredHashes: {
      ...(crc32c !== undefined && { crc32c }),
      ...(md5Hash !== undefined && { md5Hash }),
    },
    preconditions: preconditions.value,
    declaredSize,
    origin: header(ctx, 'origin'),
    createdAt: now,
    expiresAt: now + app.sessionTtlMs,
    status: 'active',
    persisted: 0,
    total: undefined,
    hash: new UploadHasher().save(),
  };
  await app.metadata.createSession(session);
  ctx.logFields['session'] = redactSessionId(id);
  const query = ctx.query.raw
    .split('&')
    .filter((p) => p !== '' && !p.startsWith('upload_id='))
    .join('&');
  const location = `${ctx.baseUrl}${ctx.path}?${query}${query ? '&' : ''}upload_id=${id}`;
  sendEmpty(ctx, 200, { location, 'x-guploader-uploadid': id });
}

async function readInitiationBody(ctx: Context): Promise<InitiationBody> {
  const raw = await readSmallBody(ctx.req, MAX_INITIATION_BODY);
  if (raw === 'too-large') {
    throw badRequest(
      `The initiation body (object metadata) is limited to ${MAX_INITIATION_BODY} bytes.`,
    );
  }
  if (raw.length === 0) return {};
  const type = header(ctx, 'content-type') ?? '';
  if (type !== '' && !/^application\/json\b/i.test(type)) {
    throw badRequest(
      `The body of a resumable upload initiation is the object's JSON metadata, sent as application/json; this one is ${type.slice(0, 60)}. Send the data to the session URI afterwards.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw badRequest(
      `Parse Error: the body is not valid JSON (${(error as Error).message.slice(0, 100)}).`,
      'parseError',
    );
  }
  const parsed = parseInitiationBody(json);
  if (!parsed.ok) throw new HttpError(parsed.error);
  return parsed.value;
}

function resolveObjectName(fromQuery: string | undefined, fromBody: string | undefined): string {
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw badRequest(
      `Value '${fromBody.slice(0, 200)}' in content does not agree with value '${fromQuery.slice(0, 200)}'.`,
    );
  }
  const name = fromQuery ?? fromBody;
  if (name === undefined) {
    throw badRequest(
      'No object name: give it in the "name" query parameter or in the JSON body.',
      'required',
    );
  }
  return requireObjectName(name);
}

function parseDeclaredSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw badRequest(
      `Invalid X-Upload-Content-Length "${value.slice(0, 40)}": it must be the upload's size in bytes.`,
    );
  }
  const size = Number(value.trim());
  if (size > MAX_OBJECT_SIZE) throw new HttpError(tooLarge(size));
  return size;
}

/** `PUT|POST|DELETE` on a session URI: data, status queries, completion, cancellation. */
export async function sessionRequest(app: Services, ctx: Context, bucket: string): Promise<void> {
  const id = ctx.query.get('upload_id') ?? '';
  if (!isSessionIdShape(id)) throw new HttpError(sessionNotFound());
  ctx.logFields['session'] = redactSessionId(id);
  const lease = await app.locks.acquire(sessionKey(id));
  try {
    const session = await app.metadata.getSession(id);
    if (!session || session.bucket !== bucket || app.now() >= session.expiresAt) {
      throw new HttpError(sessionNotFound());
    }
    ctx.res.setHeader('x-guploader-uploadid', id);
    if (ctx.method === 'DELETE') return await cancelSession(app, ctx, session);
    await chunkRequest(app, ctx, session, lease.superseded);
  } finally {
    await lease.release();
  }
}

async function chunkRequest(
  app: Services,
  ctx: Context,
  session: SessionRecord,
  superseded: AbortSignal,
): Promise<void> {
  const contentLengthHeader = header(ctx, 'content-length');
  const request = {
    contentRange: header(ctx, 'content-range'),
    contentLength: contentLengthHeader === undefined ? undefined : Number(contentLengthHeader),
  };
  const no308 = header(ctx, 'x-guploader-no-308')?.toLowerCase() === 'yes';
  const decision = decideChunk(session, request, app.now());
  ctx.logFields['decision'] = decision.kind;
  switch (decision.kind) {
    case 'replay':
      return replay(ctx, session);
    case 'reject':
      if (decision.failSession) await failSession(app, session, decision.error);
      return sendError(ctx, decision.error);
    case 'status': {
      const r = incompleteResponse(session.persisted, no308);
      return sendEmpty(ctx, r.status, r.headers);
    }
    case 'finalize':
      return finish(app, ctx, session, decision.size, session.hash);
    case 'write':
      return write(app, ctx, session, decision.plan, superseded, no308);
  }
}

async function write(
  app: Services,
  ctx: Context,
  session: SessionRecord,
  plan: WritePlan,
  superseded: AbortSignal,
  no308: boolean,
): Promise<void> {
  // Declared hashes are checked before any byte is taken, so a malformed header touches nothing.
  const hashes = parseGoogHash(header(ctx, 'x-goog-hash'));
  if (!hashes.ok) return sendError(ctx, hashes.error);

  const writer = await app.blobs.openWriter(session.blobId, {
    offset: session.persisted,
    state: session.blobState,
    expectedSize: plan.total ?? session.total ?? session.declaredSize,
  });
  let current = session;
  const body = new BodyReader(ctx.req, superseded);
  let result;
  try {
    result = await ingest(body, writer, plan, {
      persisted: session.persisted,
      hash: session.hash,
      checkpoint: async (persisted, hash, blobState) => {
        current = { ...current, persisted, hash, blobState };
        await app.metadata.putSession(current);
      },
    });
  } catch (error) {
    body.stop('interrupted');
    await writer.abandon();
    throw error;
  }
  ctx.logFields['received'] = result.received;
  const settlement = settleWrite(current, plan, result.received, result.end === 'complete');
  if (settlement.kind === 'reject') {
    await writer.abandon();
    return sendError(ctx, settlement.error);
  }
  const kept = settlement.kind === 'complete' ? settlement.size : settlement.persisted;
  const blobState = await writer.commit(kept, true);
  const total = settlement.kind === 'complete' ? settlement.size : (plan.total ?? current.total);
  if (kept !== current.persisted || total !== current.total || blobState !== current.blobState) {
    current = { ...current, persisted: kept, total, hash: result.hashAt(kept), blobState };
    await app.metadata.putSession(current);
  }
  if (settlement.kind === 'complete') {
    return finish(app, ctx, current, settlement.size, current.hash, hashes.value);
  }
  if (result.end === 'superseded') return sendError(ctx, sessionSuperseded(kept));
  const r = incompleteResponse(kept, no308);
  sendEmpty(ctx, r.status, r.headers);
}

async function finish(
  app: Services,
  ctx: Context,
  session: SessionRecord,
  size: number,
  hash: SessionRecord['hash'],
  hashes?: { crc32c?: string; md5Hash?: string },
): Promise<void> {
  let declared = hashes;
  if (declared === undefined) {
    const parsed = parseGoogHash(header(ctx, 'x-goog-hash'));
    if (!parsed.ok) return sendError(ctx, parsed.error);
    declared = parsed.value;
  }
  const completion = await completeSession(app, session, size, hash, {
    hashes: declared,
    customMetadata: customMetadataHeaders(ctx.req.headers),
  });
  if (!completion.ok) return sendError(ctx, completion.error);
  sendJson(ctx, 200, objectResource(completion.object, ctx.baseUrl));
}

function replay(ctx: Context, session: SessionRecord): void {
  if (session.status === 'final' && session.object)
    return sendJson(ctx, 200, objectResource(session.object, ctx.baseUrl));
  sendError(
    ctx,
    session.failure ??
      protocolError(410, 'gone', 'This upload session failed earlier. Start a new upload.'),
  );
}

/** `DELETE` on a session URI: 499, as GCS answers; the session is gone for good. */
async function cancelSession(app: Services, ctx: Context, session: SessionRecord): Promise<void> {
  if (session.status === 'final') return replay(ctx, session);
  if (session.status !== 'cancelled') {
    await app.metadata.putSession({ ...session, status: 'cancelled' });
    await app.blobs.delete(session.blobId);
  }
  sendEmpty(ctx, 499);
}
