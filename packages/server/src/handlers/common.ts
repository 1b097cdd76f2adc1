import { bucketNameProblem, bucketNotFound, objectNameProblem } from '@spool/core';
import { HttpError, badRequest } from '../http/errors.js';
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
