import {
  bucketNameProblem,
  bucketNotFound,
  objectNameProblem,
  objectResource,
  type StoredObject,
} from '@spool/core';
import { sendJsonCut } from '../faults/faulty-body.js';
import type { Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import type { Services } from '../services.js';
import type { BucketRecord } from '../store/types.js';

export async function requireBucket(app: Services, name: string): Promise<BucketRecord> {
  const problem = bucketNameProblem(name);
  if (problem) throw badRequest(`Invalid bucket name "${name.slice(0, 64)}". ${problem}`);
  const bucket = await app.metadata.getBucket(name);
  if (!bucket) throw new HttpError(bucketNotFound());
  return bucket;
}

export function requireObjectName(name: string): string {
  const problem = objectNameProblem(name);
  if (problem) throw badRequest(problem);
  return name;
}

/** Custom metadata sent as X-Goog-Meta-* headers. */
export function customMetadataHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-goog-meta-') && value !== undefined) {
      out[name.slice('x-goog-meta-'.length)] = Array.isArray(value) ? value.join(',') : value;
    }
  }
  return out;
}

/** The answer carrying a completed upload's object, which fault injection may cut short. */
export async function sendCompleted(
  ctx: Context,
  object: StoredObject,
  headers: Record<string, string> = {},
): Promise<void> {
  const resource = objectResource(object, ctx.baseUrl);
  const cutAfter = ctx.faults.finalResponse();
  if (cutAfter === undefined) return sendJson(ctx, 200, resource, headers);
  await sendJsonCut(ctx, 200, resource, cutAfter, headers);
}
