import { bucketNameProblem, objectNameProblem } from '@spool/core';
import { InvalidOptionsError } from './errors.js';

/** GCS itself. */
export const DEFAULT_ENDPOINT = 'https://storage.googleapis.com';

/**
 * Where an upload goes: an object in a bucket, a session someone else started, or a V4 signed
 * URL that starts one (`spool sign --resumable`, or any GCS signer with action "resumable").
 */
export type Destination =
  | string
  | { readonly bucket: string; readonly object: string }
  | { readonly sessionUri: string }
  | { readonly signedUrl: string };

export type ResolvedDestination =
  | { readonly kind: 'object'; readonly bucket: string; readonly object: string }
  | { readonly kind: 'session'; readonly sessionUri: string }
  | { readonly kind: 'signed'; readonly signedUrl: string };

/** `gs://BUCKET/OBJECT` → bucket and object name (which may contain slashes). */
export function parseObjectUrl(url: string): { bucket: string; object: string } {
  const m = /^gs:\/\/([^/]+)\/(.+)$/s.exec(url);
  if (!m) {
    throw new InvalidOptionsError(
      `"${url}" is not an object URL: write gs://BUCKET/OBJECT (the object name may contain slashes).`,
    );
  }
  return checkNames(m[1]!, m[2]!);
}

/** `gs://BUCKET` or `gs://BUCKET/PREFIX` → bucket and prefix (possibly empty). */
export function parseBucketUrl(url: string): { bucket: string; prefix: string } {
  const m = /^gs:\/\/([^/]+)(?:\/(.*))?$/s.exec(url);
  if (!m)
    throw new InvalidOptionsError(`"${url}" is not a bucket URL: write gs://BUCKET[/PREFIX].`);
  const bucket = m[1]!;
  const problem = bucketNameProblem(bucket);
  if (problem) throw new InvalidOptionsError(`Invalid bucket name "${bucket}": ${problem}`);
  return { bucket, prefix: m[2] ?? '' };
}

export function resolveDestination(destination: Destination): ResolvedDestination {
  if (typeof destination === 'string') return { kind: 'object', ...parseObjectUrl(destination) };
  if ('sessionUri' in destination) {
    return { kind: 'session', sessionUri: absoluteUrl('session URI', destination.sessionUri) };
  }
  if ('signedUrl' in destination) {
    const signedUrl = absoluteUrl('signed URL', destination.signedUrl);
    if (!/[?&]X-Goog-Signature=/i.test(signedUrl)) {
      throw new InvalidOptionsError(
        'The signed URL has no X-Goog-Signature: sign it for a resumable upload (spool sign --resumable, or action "resumable" in a GCS library).',
      );
    }
    return { kind: 'signed', signedUrl };
  }
  return { kind: 'object', ...checkNames(destination.bucket, destination.object) };
}

function absoluteUrl(what: string, url: string): string {
  if (!/^https?:\/\//i.test(url)) {
    throw new InvalidOptionsError(
      `The ${what} must be an absolute http(s) URL; got "${url.slice(0, 80)}".`,
    );
  }
  return url;
}

function checkNames(bucket: string, object: string): { bucket: string; object: string } {
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem)
    throw new InvalidOptionsError(`Invalid bucket name "${bucket}": ${bucketProblem}`);
  const objectProblem = objectNameProblem(object);
  if (objectProblem) throw new InvalidOptionsError(`Invalid object name: ${objectProblem}`);
  return { bucket, object };
}

/**
 * An endpoint as users write it: `http://127.0.0.1:4080`, `localhost:9000` (as
 * STORAGE_EMULATOR_HOST often is), with or without a trailing slash or `/storage/v1`.
 */
export function normalizeEndpoint(endpoint: string): string {
  let url = endpoint.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidOptionsError(
      `The endpoint "${endpoint}" is not a URL such as http://127.0.0.1:4080.`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidOptionsError(`The endpoint "${endpoint}" must be an http:// or https:// URL.`);
  }
  if (parsed.search || parsed.hash) {
    throw new InvalidOptionsError(
      `The endpoint "${endpoint}" must not have a query or a fragment.`,
    );
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '').replace(/\/storage\/v1$/, '')}`;
}

const enc = encodeURIComponent;

export const urls = {
  /** Where uploads of new objects go (uploadType=resumable, multipart or media). */
  insert: (endpoint: string, bucket: string) => `${endpoint}/upload/storage/v1/b/${enc(bucket)}/o`,
  initiate: (endpoint: string, bucket: string, object: string, query: string) =>
    `${urls.insert(endpoint, bucket)}?uploadType=resumable&name=${enc(object)}${query}`,
  object: (endpoint: string, bucket: string, object: string) =>
    `${endpoint}/storage/v1/b/${enc(bucket)}/o/${enc(object)}`,
  objects: (endpoint: string, bucket: string) => `${endpoint}/storage/v1/b/${enc(bucket)}/o`,
  buckets: (endpoint: string) => `${endpoint}/storage/v1/b`,
  /** Where an object's bytes are served (its mediaLink). */
  media: (endpoint: string, bucket: string, object: string) =>
    `${endpoint}/download/storage/v1/b/${enc(bucket)}/o/${enc(object)}?alt=media`,
};
