import { createHash } from 'node:crypto';
import {
  decodeBase64,
  parseGoogHash,
  protocolError,
  type DeclaredHashes,
  type ObjectMetadata,
  type Preconditions,
  type StoredObject,
} from '@spool/core';
import { uploadBody, type BodyEnd, type ChunkSource } from '../http/body.js';
import { header, type Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import { sendEmpty } from '../http/respond.js';
import { redactSessionId } from '../ids.js';
import type { Services } from '../services.js';
import { storeOneShot } from '../upload/one-shot.js';
import { openSession } from '../upload/sessions.js';
import {
  cancelSession,
  chunkRequestOf,
  runChunk,
  withSession,
  type ChunkOutcome,
} from '../upload/session-chunk.js';
import { customMetadataHeaders, requireBucket, requireObjectName } from './common.js';
import { encodeObjectPath, objectHeaders } from './objects.js';

// The XML API's upload surface: resumable starts (`x-goog-resumable: start`, the form signed URLs
// use), PUT uploads, and the session requests that follow. Object reads and deletes share the
// JSON API's handlers; errors are rendered as XML by the dispatcher.

/** Object metadata the XML API takes from request headers. */
function metadataFromHeaders(ctx: Context): ObjectMetadata {
  const pick = (name: string) => header(ctx, name) || undefined;
  const custom = customMetadataHeaders(ctx.req.headers);
  const contentType = pick('content-type');
  return {
    ...(contentType !== undefined && { contentType }),
    ...(pick('cache-control') !== undefined && { cacheControl: pick('cache-control') }),
    ...(pick('content-disposition') !== undefined && {
      contentDisposition: pick('content-disposition'),
    }),
    ...(pick('content-encoding') !== undefined && { contentEncoding: pick('content-encoding') }),
    ...(pick('content-language') !== undefined && { contentLanguage: pick('content-language') }),
    ...(Object.keys(custom).length > 0 && { metadata: custom }),
  };
}

/** Generation preconditions the XML API takes from x-goog-if-* headers. */
function preconditionsFromHeaders(ctx: Context): Preconditions {
  const out: Record<string, string> = {};
  for (const [headerName, field] of [
    ['x-goog-if-generation-match', 'ifGenerationMatch'],
    ['x-goog-if-metageneration-match', 'ifMetagenerationMatch'],
  ] as const) {
    const value = header(ctx, headerName);
    if (value === undefined) continue;
    if (!/^\d{1,19}$/.test(value.trim()))
      throw badRequest(
        `Invalid ${headerName}: "${value.slice(0, 40)}" is not a generation number.`,
      );
    out[field] = String(BigInt(value.trim()));
  }
  return out;
}

/** Content-MD5 and X-Goog-Hash, the ways an XML client declares hashes. */
function declaredHashes(ctx: Context): DeclaredHashes[] {
  const hashes = parseGoogHash(header(ctx, 'x-goog-hash'));
  if (!hashes.ok) throw new HttpError(hashes.error);
  const md5 = header(ctx, 'content-md5');
  if (md5 !== undefined && decodeBase64(md5.trim())?.length !== 16) {
    throw badRequest('Invalid Content-MD5: it must be the base64 of the 16-byte MD5 of the body.');
  }
  return md5 === undefined ? [hashes.value] : [hashes.value, { md5Hash: md5.trim() }];
}

/** The headers of an XML API answer about an object (completion, PUT, HEAD). */
export function xmlObjectHeaders(object: StoredObject): Record<string, string | string[]> {
  return { ...objectHeaders(object), etag: xmlEtag(object) };
}

/** The XML API's entity tag: the MD5 in hex, for objects that have one. */
export function xmlEtag(
  object: Pick<StoredObject, 'md5Hash' | 'generation' | 'metageneration'>,
): string {
  if (object.md5Hash === undefined) return `"${object.generation}.${object.metageneration}"`;
  return `"${Buffer.from(object.md5Hash, 'base64').toString('hex')}"`;
}

/** `POST /{bucket}/{object}` with `x-goog-resumable: start`: 201 and the session URI. */
export async function xmlStartResumable(
  app: Services,
  ctx: Context,
  bucket: string,
  name: string,
): Promise<void> {
  if (header(ctx, 'x-goog-resumable')?.toLowerCase() !== 'start') {
    throw badRequest(
      'POST on an object starts a resumable upload with the header x-goog-resumable: start; HTML form uploads are not supported.',
    );
  }
  await requireBucket(app, bucket);
  requireObjectName(name);
  const hashes = declaredHashes(ctx);
  const session = await openSession(app, ctx, {
    api: 'xml',
    bucket,
    name,
    metadata: metadataFromHeaders(ctx),
    declaredHashes: Object.assign({}, ...hashes) as DeclaredHashes,
    preconditions: preconditionsFromHeaders(ctx),
    declaredSize: undefined,
    origin: header(ctx, 'origin'),
  });
  ctx.logFields['session'] = redactSessionId(session.id);
  sendEmpty(ctx, 201, {
    location: `${ctx.baseUrl}/${encodeURIComponent(bucket)}/${encodeObjectPath(name)}?upload_id=${session.id}`,
    'x-guploader-uploadid': session.id,
  });
}

/** `PUT|POST|DELETE /{bucket}/{object}?upload_id=…`. */
export async function xmlSessionRequest(
  app: Services,
  ctx: Context,
  bucket: string,
  name: string,
): Promise<void> {
  await withSession(
    app,
    ctx,
    ctx.query.get('upload_id') ?? '',
    { bucket, name },
    async (session, superseded) => {
      if (ctx.method === 'DELETE') {
        const cancelled = await cancelSession(app, session);
        return cancelled === 'cancelled' ? sendEmpty(ctx, 499) : renderXmlOutcome(ctx, cancelled);
      }
      renderXmlOutcome(ctx, await runChunk(app, ctx, session, chunkRequestOf(ctx), superseded));
    },
  );
}

/**
 * XML sessions answer like JSON ones while incomplete; their completion has an empty body and
 * reports the object in headers (Java takes the size from x-goog-stored-content-length).
 */
export function renderXmlOutcome(ctx: Context, outcome: ChunkOutcome): void {
  switch (outcome.kind) {
    case 'incomplete':
      return sendEmpty(
        ctx,
        308,
        outcome.persisted > 0 ? { range: `bytes=0-${outcome.persisted - 1}` } : {},
      );
    case 'complete':
      return sendEmpty(ctx, 200, xmlObjectHeaders(outcome.object));
    case 'error':
      throw new HttpError(outcome.error);
  }
}

/** Passes chunks through while hashing them with SHA-256 (for signed X-Goog-Content-SHA256). */
class Sha256Source implements ChunkSource {
  private readonly hash = createHash('sha256');
  constructor(private readonly inner: ChunkSource) {}
  async next(): Promise<Buffer | BodyEnd> {
    const chunk = await this.inner.next();
    if (typeof chunk !== 'string') this.hash.update(chunk);
    return chunk;
  }
  stop(reason: BodyEnd): void {
    this.inner.stop(reason);
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

/** `PUT /{bucket}/{object}`: the body is the object. */
export async function xmlPutObject(
  app: Services,
  ctx: Context,
  bucket: string,
  name: string,
): Promise<void> {
  await requireBucket(app, bucket);
  requireObjectName(name);
  const length = header(ctx, 'content-length');
  // A signed payload hash must match the body; the signature alone only covers the header.
  const signedSha256 = header(ctx, 'x-goog-content-sha256');
  const checkSha256 = signedSha256 !== undefined && signedSha256 !== 'UNSIGNED-PAYLOAD';
  const body = uploadBody(ctx.req, app.limits);
  const source = checkSha256 ? new Sha256Source(body) : body;
  const result = await storeOneShot(app, source, {
    kind: 'xml',
    bucket,
    name,
    metadata: metadataFromHeaders(ctx),
    size: length === undefined ? undefined : Number(length),
    declaredHashes: declaredHashes(ctx),
    preconditions: preconditionsFromHeaders(ctx),
    interrupt: ctx.faults.upload(),
    verify: () =>
      source instanceof Sha256Source && source.hex() !== signedSha256!.toLowerCase()
        ? protocolError(
            400,
            'invalid',
            'The body does not match X-Goog-Content-SHA256; nothing was stored.',
            'json',
            'BadDigest',
          )
        : undefined,
  });
  if (!result.ok) throw new HttpError(result.error);
  sendEmpty(ctx, 200, xmlObjectHeaders(result.object));
}
