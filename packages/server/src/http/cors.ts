// Browser access. Two sources of permission, as on GCS: origins the operator allows
// (--cors-origin, for initiations, reads and listings from a web app), and the Origin a
// resumable session was started with, which is the only origin that session answers — so an
// app's backend can start a session for a browser and hand it the session URI.

/** Response headers a browser script may read: everything a GCS upload client needs. */
export const EXPOSED_HEADERS = [
  'Location',
  'Range',
  'ETag',
  'Content-Range',
  'X-GUploader-UploadID',
  'X-Http-Status-Code-Override',
  'X-Goog-Hash',
  'X-Goog-Generation',
  'X-Goog-Metageneration',
  'X-Goog-Stored-Content-Length',
  'X-Goog-Upload-URL',
  'X-Goog-Upload-Status',
  'X-Goog-Upload-Size-Received',
  'X-Goog-Upload-Chunk-Granularity',
].join(', ');

const ALLOWED_METHODS = 'GET, HEAD, PUT, POST, PATCH, DELETE, OPTIONS';

export interface CorsPolicy {
  /** Allowed origins; "*" allows any. */
  readonly origins: ReadonlySet<string>;
}

/**
 * The origin to allow for a request, or undefined. A session's own origin decides for requests
 * to that session; otherwise the operator's list does.
 */
export function allowedOrigin(
  policy: CorsPolicy,
  requestOrigin: string | undefined,
  sessionOrigin?: string,
): string | undefined {
  if (requestOrigin === undefined) return undefined;
  if (sessionOrigin !== undefined)
    return requestOrigin === sessionOrigin ? requestOrigin : undefined;
  if (policy.origins.has('*') || policy.origins.has(requestOrigin)) return requestOrigin;
  return undefined;
}

/** Headers on an actual (non-preflight) response for an allowed origin. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': EXPOSED_HEADERS,
    vary: 'Origin',
  };
}

/** Headers answering a preflight for an allowed origin: the requested headers are echoed back. */
export function preflightHeaders(
  origin: string,
  requestedHeaders: string | undefined,
): Record<string, string> {
  const requested = (requestedHeaders ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(h));
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': ALLOWED_METHODS,
    ...(requested.length > 0 && { 'access-control-allow-headers': requested.join(', ') }),
    'access-control-max-age': '3600',
    vary: 'Origin, Access-Control-Request-Headers',
  };
}
