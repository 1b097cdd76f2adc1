import { PRECONDITION_NAMES, type ObjectMetadata, type Preconditions } from '@spool/core';
import { urls } from './destination.js';
import { InvalidOptionsError, type RequestContext } from './errors.js';

// The request that starts a resumable session: through the JSON API (a bucket and object name,
// with the caller's credentials), or through a V4 signed URL of the XML API, which carries its
// own permission and takes the object's metadata as headers.

export interface InitiationRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  readonly context: RequestContext;
  /** What to suggest when the answer is 404. */
  readonly notFoundHint: string;
}

/** What to suggest when a request naming `bucket` is answered 404. */
export function missingBucketHint(endpoint: string, bucket: string): string {
  return `Does the bucket "${bucket}" exist at ${endpoint}?`;
}

/** The preconditions as query parameters of the JSON API, each starting with `&`. */
export function preconditionQuery(preconditions: Preconditions): string {
  return PRECONDITION_NAMES.map((name) => {
    const value = preconditions[name];
    return value === undefined ? '' : `&${name}=${encodeURIComponent(value)}`;
  }).join('');
}

export function jsonInitiation(
  endpoint: string,
  names: { readonly bucket: string; readonly object: string },
  metadata: ObjectMetadata,
  preconditions: Preconditions,
  size: number | undefined,
): InitiationRequest {
  const { bucket, object } = names;
  const url = urls.initiate(endpoint, bucket, object, preconditionQuery(preconditions));
  return {
    url,
    headers: {
      'content-type': 'application/json; charset=UTF-8',
      ...(size !== undefined && { 'x-upload-content-length': String(size) }),
      ...(metadata.contentType !== undefined && { 'x-upload-content-type': metadata.contentType }),
    },
    body: new TextEncoder().encode(JSON.stringify(metadata)),
    context: {
      method: 'POST',
      what: `starting an upload session for gs://${bucket}/${object}`,
      url,
    },
    notFoundHint: missingBucketHint(endpoint, bucket),
  };
}

/** The XML API's names for the metadata fields it takes as headers. */
const XML_HEADERS = {
  contentType: 'content-type',
  cacheControl: 'cache-control',
  contentDisposition: 'content-disposition',
  contentEncoding: 'content-encoding',
  contentLanguage: 'content-language',
} as const;

/** Checked when the upload is created: a field the XML API cannot take is an error at once. */
export function signedInitiation(
  signedUrl: string,
  metadata: ObjectMetadata,
  preconditions: Preconditions,
): InitiationRequest {
  const headers: Record<string, string> = { 'x-goog-resumable': 'start' };
  for (const [field, value] of Object.entries(metadata) as [keyof ObjectMetadata, unknown][]) {
    if (value === undefined) continue;
    if (field === 'metadata') {
      for (const [key, v] of Object.entries(metadata.metadata ?? {})) {
        headers[`x-goog-meta-${key.toLowerCase()}`] = v;
      }
    } else if (field in XML_HEADERS) {
      headers[XML_HEADERS[field as keyof typeof XML_HEADERS]] = value as string;
    } else {
      throw new InvalidOptionsError(
        `metadata.${field} cannot be set through a signed URL (the XML API takes contentType, cacheControl, contentDisposition, contentEncoding, contentLanguage and metadata).`,
      );
    }
  }
  for (const name of PRECONDITION_NAMES) {
    const value = preconditions[name];
    if (value === undefined) continue;
    if (name !== 'ifGenerationMatch') {
      throw new InvalidOptionsError(
        `preconditions.${name} cannot be used with a signed URL; only ifGenerationMatch can (x-goog-if-generation-match).`,
      );
    }
    headers['x-goog-if-generation-match'] = value;
  }
  const { bucket, object } = signedUrlObject(signedUrl);
  return {
    url: signedUrl,
    headers,
    body: new Uint8Array(0),
    context: {
      method: 'POST',
      what: `starting an upload session for gs://${bucket}/${object} with a signed URL`,
      url: signedUrl,
    },
    notFoundHint: `Does the bucket "${bucket}" exist?`,
  };
}

/** The server, bucket and object a signed URL of the XML API (`/{bucket}/{object}`) names. */
export function signedUrlObject(signedUrl: string): {
  endpoint: string;
  bucket: string;
  object: string;
} {
  const url = new URL(signedUrl);
  const m = /^\/([^/]+)\/(.+)$/.exec(url.pathname);
  if (!m) {
    throw new InvalidOptionsError(
      `The signed URL names no object: its path should be /BUCKET/OBJECT; got "${url.pathname.slice(0, 80)}".`,
    );
  }
  return {
    endpoint: url.origin,
    bucket: decodeURIComponent(m[1]!),
    object: decodeURIComponent(m[2]!),
  };
}
