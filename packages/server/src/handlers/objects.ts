import { pipeline } from 'node:stream/promises';
import {
  compareNames,
  objectNotFound,
  objectResource,
  objectEtag,
  parsePreconditions,
  preconditionFailed,
  preconditionsHold,
  selectByteRange,
  protocolError,
  type Preconditions,
  type StoredObject,
} from '@spool/core';
import { writeBodyWithFault } from '../faults/faulty-body.js';
import { header, type Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import { sendEmpty, sendError, sendJson } from '../http/respond.js';
import type { Services } from '../services.js';
import type { ObjectRecord } from '../store/types.js';
import { requireBucket, requireObjectName } from './common.js';

/** An object name as a URL path: each segment percent-encoded, slashes kept. */
export function encodeObjectPath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

/** Generation preconditions from the query (JSON API). */
export function queryPreconditions(ctx: Context): Preconditions {
  const conditions = parsePreconditions((n) => ctx.query.get(n));
  if (!conditions.ok) throw new HttpError(conditions.error);
  return conditions.value;
}

/** The object a request names, honouring `generation` and the generation preconditions. */
export async function requireObject(
  app: Services,
  ctx: Context,
  bucket: string,
  name: string,
  preconditions: Preconditions,
): Promise<ObjectRecord> {
  await requireBucket(app, bucket);
  requireObjectName(name);
  const object = await app.metadata.getObject(bucket, name);
  const generation = ctx.query.get('generation');
  if (generation !== undefined && !/^\d{1,19}$/.test(generation)) {
    throw badRequest(
      `Invalid value for generation: "${generation.slice(0, 40)}" is not a generation number.`,
    );
  }
  if (!object || (generation !== undefined && generation !== object.generation)) {
    throw new HttpError(objectNotFound(bucket, name));
  }
  if (!preconditionsHold(preconditions, object)) throw new HttpError(preconditionFailed());
  return object;
}

/** The x-goog-* headers GCS sends about an object (downloads, XML completions). */
export function objectHeaders(object: StoredObject): Record<string, string | string[]> {
  return {
    'x-goog-generation': object.generation,
    'x-goog-metageneration': object.metageneration,
    'x-goog-hash': [
      `crc32c=${object.crc32c}`,
      ...(object.md5Hash !== undefined ? [`md5=${object.md5Hash}`] : []),
    ],
    'x-goog-stored-content-length': String(object.size),
    'x-goog-stored-content-encoding': object.contentEncoding ?? 'identity',
    ...(object.componentCount !== undefined && {
      'x-goog-component-count': String(object.componentCount),
    }),
  };
}

/** `GET /storage/v1/b/{bucket}/o/{object}`: metadata, or the bytes with `alt=media`. */
export async function getObject(
  app: Services,
  ctx: Context,
  bucket: string,
  name: string,
): Promise<void> {
  const alt = ctx.query.get('alt') ?? 'json';
  if (alt === 'media')
    return downloadObject(app, ctx, bucket, name, {
      preconditions: queryPreconditions(ctx),
      etag: objectEtag,
    });
  if (alt !== 'json')
    throw badRequest(`Invalid value for alt: "${alt.slice(0, 20)}"; use json or media.`);
  const object = await requireObject(app, ctx, bucket, name, queryPreconditions(ctx));
  sendJson(ctx, 200, objectResource(object, ctx.baseUrl), { etag: objectEtag(object) });
}

/** Whether an entity tag list (If-None-Match, If-Match) names `etag`. */
function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((item) => {
    const tag = item.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

/** The object's bytes, whole or one `Range`, with the headers GCS sends on downloads. */
export async function downloadObject(
  app: Services,
  ctx: Context,
  bucket: string,
  name: string,
  options: { preconditions: Preconditions; etag: (object: StoredObject) => string },
): Promise<void> {
  const object = await requireObject(app, ctx, bucket, name, options.preconditions);
  const etag = options.etag(object);
  const headers: Record<string, string | string[] | number> = {
    ...objectHeaders(object),
    'content-type': object.contentType,
    'accept-ranges': 'bytes',
    etag,
    'last-modified': new Date(object.updated).toUTCString(),
  };
  if (object.contentEncoding) headers['content-encoding'] = object.contentEncoding;
  if (object.contentDisposition) headers['content-disposition'] = object.contentDisposition;
  if (object.contentLanguage) headers['content-language'] = object.contentLanguage;
  if (object.cacheControl) headers['cache-control'] = object.cacheControl;

  const ifMatch = header(ctx, 'if-match');
  if (ifMatch !== undefined && !etagListMatches(ifMatch, etag))
    throw new HttpError(preconditionFailed());
  const ifNoneMatch = header(ctx, 'if-none-match');
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, etag)) {
    return sendEmpty(ctx, 304, { etag, 'x-goog-generation': object.generation });
  }

  const selection = selectByteRange(header(ctx, 'range'), object.size);
  if (selection.kind === 'unsatisfiable') {
    return sendError(
      ctx,
      protocolError(
        416,
        'requestedRangeNotSatisfiable',
        `The requested range cannot be satisfied: the object has ${object.size} bytes.`,
      ),
      { 'content-range': `bytes */${object.size}` },
    );
  }
  const [start, end] =
    selection.kind === 'partial' ? [selection.start, selection.end] : [0, object.size - 1];
  if (selection.kind === 'partial')
    headers['content-range'] = `bytes ${start}-${end}/${object.size}`;
  const status = selection.kind === 'partial' ? 206 : 200;
  if (object.size === 0 || ctx.method === 'HEAD') {
    return sendEmpty(ctx, status, {
      ...headers,
      'content-length': object.size === 0 ? 0 : end - start + 1,
    });
  }
  const stream = await app.blobs.read(object.blobId, start, end);
  // Replaced or deleted since its record was read: as if the request had come a moment later.
  if (!stream) throw new HttpError(objectNotFound(object.bucket, object.name));
  ctx.res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) ctx.res.setHeader(k, v);
  ctx.res.setHeader('content-length', end - start + 1);
  const fault = ctx.faults.download(start, end - start + 1);
  if (fault) await writeBodyWithFault(ctx.res, stream as AsyncIterable<Uint8Array>, fault);
  else await pipeline(stream, ctx.res).catch((error: unknown) => clientWentAway(ctx, error));
}

/** A client that closes its connection in the middle of a download is no failure of ours. */
function clientWentAway(ctx: Context, error: unknown): void {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (ctx.res.destroyed && code === 'ERR_STREAM_PREMATURE_CLOSE') {
    ctx.logFields['aborted'] = true;
    return;
  }
  throw error;
}

/** `DELETE /storage/v1/b/{bucket}/o/{object}` (and the XML API's DELETE). */
export async function deleteObject(
  app: Services,
  ctx: Context,
  bucket: string,
  name: string,
  preconditions: Preconditions,
): Promise<void> {
  const object = await requireObject(app, ctx, bucket, name, preconditions);
  const deleted = await app.metadata.deleteObject(bucket, name, object.generation);
  if (!deleted) throw new HttpError(objectNotFound(bucket, name));
  await app.blobs.delete(deleted.blobId);
  sendEmpty(ctx, 204);
}

/** `GET /storage/v1/b/{bucket}/o`: prefix, delimiter, pagination, offsets. */
export async function listObjects(app: Services, ctx: Context, bucket: string): Promise<void> {
  await requireBucket(app, bucket);
  const q = ctx.query;
  const token = q.get('pageToken');
  let after: string | undefined;
  if (token !== undefined && token !== '') {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (Buffer.from(after, 'utf8').toString('base64url') !== token) {
      throw badRequest(
        'Invalid pageToken: pass back the nextPageToken of the previous page unchanged.',
      );
    }
  }
  const page = await app.metadata.listObjects(bucket, {
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') || undefined,
    after,
    maxResults: q.integer('maxResults', 1000, 1, 1000),
    startOffset: q.get('startOffset') || undefined,
    endOffset: q.get('endOffset') || undefined,
    includeTrailingDelimiter: q.flag('includeTrailingDelimiter'),
  });
  sendJson(ctx, 200, {
    kind: 'storage#objects',
    ...(page.prefixes.length > 0 && { prefixes: [...page.prefixes].sort(compareNames) }),
    ...(page.items.length > 0 && { items: page.items.map((o) => objectResource(o, ctx.baseUrl)) }),
    ...(page.nextAfter !== undefined && {
      nextPageToken: Buffer.from(page.nextAfter, 'utf8').toString('base64url'),
    }),
  });
}
