import { bucketNameProblem, bucketNotFound, protocolError } from '@spool/core';
import { readSmallBody } from '../http/body.js';
import type { Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import { sendEmpty, sendJson } from '../http/respond.js';
import type { Services } from '../services.js';
import type { BucketRecord } from '../store/types.js';
import { mayUseBucket } from '../auth/tokens.js';

export function bucketResource(bucket: BucketRecord, baseUrl: string): Record<string, unknown> {
  return {
    kind: 'storage#bucket',
    id: bucket.name,
    selfLink: `${baseUrl}/storage/v1/b/${bucket.name}`,
    projectNumber: '0',
    name: bucket.name,
    timeCreated: bucket.timeCreated,
    updated: bucket.updated,
    metageneration: bucket.metageneration,
    location: bucket.location,
    locationType: 'region',
    storageClass: bucket.storageClass,
    etag: `"${bucket.metageneration}"`,
  };
}

/** Creates a bucket record; 'exists' when there is one already. */
export async function ensureBucket(
  app: Services,
  name: string,
  location = 'US',
): Promise<'created' | 'exists'> {
  const problem = bucketNameProblem(name);
  if (problem) throw badRequest(`Invalid bucket name "${name.slice(0, 64)}". ${problem}`);
  const now = new Date(app.now()).toISOString();
  return app.metadata.createBucket({
    name,
    timeCreated: now,
    updated: now,
    metageneration: '1',
    location,
    storageClass: 'STANDARD',
  });
}

/** `POST /storage/v1/b`: body `{ "name": … }`. */
export async function insertBucket(app: Services, ctx: Context): Promise<void> {
  const raw = await readSmallBody(ctx.req, 64 * 1024);
  if (raw === 'too-large') throw badRequest('The bucket resource is limited to 64 KiB.');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8') || '{}');
  } catch {
    throw badRequest('Parse Error: the body is not valid JSON.', 'parseError');
  }
  const name = (body as { name?: unknown } | null)?.name;
  if (typeof name !== 'string')
    throw badRequest('The bucket resource needs a "name" string.', 'required');
  if (ctx.principal && !mayUseBucket(ctx.principal, name)) {
    throw new HttpError(
      protocolError(
        403,
        'forbidden',
        `This token may not create bucket "${name.slice(0, 222)}".`,
        'json',
        'AccessDenied',
      ),
    );
  }
  const location = (body as { location?: unknown }).location;
  const created = await ensureBucket(
    app,
    name,
    typeof location === 'string' ? location.toUpperCase() : 'US',
  );
  if (created === 'exists') {
    throw new HttpError(
      protocolError(
        409,
        'conflict',
        'Your previous request to create the named bucket succeeded and you already own it.',
      ),
    );
  }
  sendJson(ctx, 200, bucketResource((await app.metadata.getBucket(name))!, ctx.baseUrl));
}

export async function getBucket(app: Services, ctx: Context, name: string): Promise<void> {
  const bucket = bucketNameProblem(name) ? undefined : await app.metadata.getBucket(name);
  if (!bucket) throw new HttpError(bucketNotFound());
  sendJson(ctx, 200, bucketResource(bucket, ctx.baseUrl));
}

export async function listBuckets(app: Services, ctx: Context): Promise<void> {
  // A token limited to some buckets sees only those.
  const principal = ctx.principal;
  const buckets = (await app.metadata.listBuckets()).filter(
    (b) => !principal || mayUseBucket(principal, b.name),
  );
  sendJson(ctx, 200, {
    kind: 'storage#buckets',
    ...(buckets.length > 0 && { items: buckets.map((b) => bucketResource(b, ctx.baseUrl)) }),
  });
}

export async function deleteBucket(app: Services, ctx: Context, name: string): Promise<void> {
  const result = bucketNameProblem(name) ? 'not-found' : await app.metadata.deleteBucket(name);
  if (result === 'not-found') throw new HttpError(bucketNotFound());
  if (result === 'not-empty') {
    throw new HttpError(
      protocolError(409, 'conflict', 'The bucket you tried to delete is not empty.'),
    );
  }
  sendEmpty(ctx, 204);
}
