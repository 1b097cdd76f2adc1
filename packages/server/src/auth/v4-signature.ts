import {
  createHash,
  createHmac,
  createPublicKey,
  createSign,
  createVerify,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';

// Google's V4 signing process, as the conformance vectors (googleapis/conformance-tests,
// storage/v1/v4_signatures.json) pin it down: a canonical request, a string to sign, and an
// RSA-SHA256 (service account) or HMAC-SHA256 (HMAC key) signature, in hex.

export type V4Algorithm = 'GOOG4-RSA-SHA256' | 'GOOG4-HMAC-SHA256';

/** The X-Goog-* query parameters of a signed URL, checked for shape. */
export interface SignedUrlParams {
  readonly algorithm: V4Algorithm;
  /** Service account email, or HMAC access ID. */
  readonly credentialId: string;
  /** `date/location/storage/goog4_request`. */
  readonly scope: string;
  /** X-Goog-Date, `YYYYMMDD'T'HHMMSS'Z'`. */
  readonly date: string;
  readonly issuedAt: number;
  readonly expiresInSeconds: number;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

export interface SignatureProblem {
  readonly status: 400 | 403;
  readonly code: string;
  readonly message: string;
  readonly details?: string;
  readonly stringToSign?: string;
  readonly canonicalRequest?: string;
}

/** The longest validity GCS accepts: seven days. */
export const MAX_EXPIRES_SECONDS = 604_800;

/** RFC 3986 percent-encoding of everything but the unreserved characters. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Decoded query pairs from a raw query string, without treating '+' as a space. */
export function rawQueryPairs(raw: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    try {
      pairs.push([
        decodeURIComponent(eq < 0 ? part : part.slice(0, eq)),
        eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1)),
      ]);
    } catch {
      return undefined;
    }
  }
  return pairs;
}

const bad = (message: string): SignatureProblem => ({
  status: 400,
  code: 'AuthorizationQueryParametersError',
  message,
});

export function parseSignedUrlParams(
  pairs: readonly [string, string][],
): SignedUrlParams | SignatureProblem {
  const get = (name: string) => pairs.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const algorithm = get('X-Goog-Algorithm');
  if (algorithm !== 'GOOG4-RSA-SHA256' && algorithm !== 'GOOG4-HMAC-SHA256') {
    return bad(
      `X-Goog-Algorithm must be GOOG4-RSA-SHA256 or GOOG4-HMAC-SHA256, not "${String(algorithm).slice(0, 40)}".`,
    );
  }
  const credential = get('X-Goog-Credential') ?? '';
  const m = /^(.+)\/(\d{8})\/([^/]+)\/storage\/goog4_request$/.exec(credential);
  if (!m) return bad('X-Goog-Credential must be "ID/YYYYMMDD/LOCATION/storage/goog4_request".');
  const date = get('X-Goog-Date') ?? '';
  const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!d) return bad('X-Goog-Date must be of the form YYYYMMDDTHHMMSSZ.');
  if (date.slice(0, 8) !== m[2])
    return bad('The date in X-Goog-Credential must be the date of X-Goog-Date.');
  const issuedAt = Date.UTC(
    Number(d[1]),
    Number(d[2]) - 1,
    Number(d[3]),
    Number(d[4]),
    Number(d[5]),
    Number(d[6]),
  );
  if (Number.isNaN(issuedAt)) return bad('X-Goog-Date is not a valid time.');
  const expires = get('X-Goog-Expires') ?? '';
  if (!/^\d{1,7}$/.test(expires) || Number(expires) < 1)
    return bad('X-Goog-Expires must be a number of seconds.');
  if (Number(expires) > MAX_EXPIRES_SECONDS) {
    return bad(`X-Goog-Expires must be at most ${MAX_EXPIRES_SECONDS} seconds (7 days).`);
  }
  const signedHeaders = (get('X-Goog-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('host')) return bad('X-Goog-SignedHeaders must include host.');
  const signature = get('X-Goog-Signature') ?? '';
  if (!/^[0-9a-f]{2,2048}$/i.test(signature) || signature.length % 2 !== 0)
    return bad('X-Goog-Signature must be hex.');
  return {
    algorithm,
    credentialId: m[1]!,
    scope: credential.slice(m[1]!.length + 1),
    date,
    issuedAt,
    expiresInSeconds: Number(expires),
    signedHeaders,
    signature: signature.toLowerCase(),
  };
}

/** Canonical header value: trimmed, runs of spaces folded into one. */
function canonicalValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

export interface CanonicalInput {
  readonly method: string;
  /** The path as sent (percent-encoded). */
  readonly path: string;
  /** Every query parameter, decoded; X-Goog-Signature is left out of the canonical form. */
  readonly query: readonly [string, string][];
  /** Lower-case header names to values. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signedHeaders: readonly string[];
}

export function canonicalRequest(input: CanonicalInput): string {
  const path = input.path
    .split('/')
    .map((segment) => {
      try {
        return encodeRfc3986(decodeURIComponent(segment));
      } catch {
        return segment;
      }
    })
    .join('/');
  const query = input.query
    .filter(([k]) => k !== 'X-Goog-Signature')
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = [...input.signedHeaders]
    .sort()
    .map((name) => `${name}:${canonicalValue(input.headers[name] ?? '')}\n`)
    .join('');
  const payload = input.headers['x-goog-content-sha256'] ?? 'UNSIGNED-PAYLOAD';
  return [input.method, path, query, headers, input.signedHeaders.join(';'), payload].join('\n');
}

export function stringToSign(
  algorithm: V4Algorithm,
  date: string,
  scope: string,
  canonical: string,
): string {
  return [algorithm, date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
}

/** The HMAC signing key: GOOG4+secret chained through date, location, service and request type. */
function hmacSigningKey(secret: string, scope: string): Buffer {
  let key: Buffer = Buffer.from(`GOOG4${secret}`, 'utf8');
  for (const part of scope.split('/')) key = createHmac('sha256', key).update(part).digest();
  return key;
}

/** Keys a server checks signatures with. */
export interface VerificationKeys {
  /** Service account email → public key. */
  readonly rsa: ReadonlyMap<string, KeyObject>;
  /** HMAC access ID → secret. */
  readonly hmac: ReadonlyMap<string, string>;
}

/** Private keys a signer signs with: a service account's, or an HMAC secret. */
export type SigningCredential =
  | { readonly kind: 'rsa'; readonly email: string; readonly privateKeyPem: string }
  | { readonly kind: 'hmac'; readonly accessId: string; readonly secret: string };

export function sign(credential: SigningCredential, toSign: string, scope: string): string {
  if (credential.kind === 'hmac')
    return createHmac('sha256', hmacSigningKey(credential.secret, scope))
      .update(toSign)
      .digest('hex');
  return createSign('RSA-SHA256').update(toSign).sign(credential.privateKeyPem, 'hex');
}

export interface VerifyRequest {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Host values to try: the Host header as sent first. Signers that were given an endpoint with
   * a port (e.g. @google-cloud/storage with apiEndpoint) sign the host name without it.
   */
  readonly hosts: readonly string[];
  readonly now: number;
}

/**
 * Host values a signer may have signed for this server: the Host header as sent, and without its
 * port (signers such as @google-cloud/storage, and Google's conformance vectors, sign the host
 * name alone), and the same for the public URL when the server sits behind a proxy.
 */
export function hostCandidates(host: string | undefined, publicUrl?: string): string[] {
  const out = new Set<string>();
  for (const h of [host, publicUrl ? new URL(publicUrl).host : undefined]) {
    if (!h) continue;
    out.add(h);
    out.add(h.replace(/:\d+$/, ''));
  }
  return [...out];
}

/** Accepts a clock this far behind the signer's, as GCS tolerates small skews. */
const ALLOWED_SKEW_MS = 15 * 60 * 1000;

/** Checks a V4 signed URL; undefined when it is valid, otherwise what is wrong. */
export function verifySignedUrl(
  request: VerifyRequest,
  keys: VerificationKeys,
): SignatureProblem | undefined {
  const pairs = rawQueryPairs(request.rawQuery);
  if (!pairs) return bad('The query string is not valid percent-encoded UTF-8.');
  const params = parseSignedUrlParams(pairs);
  if ('status' in params) return params;
  const expiresAt = params.issuedAt + params.expiresInSeconds * 1000;
  if (request.now > expiresAt) {
    return {
      status: 400,
      code: 'ExpiredToken',
      message: 'Invalid argument.',
      details: `The signed URL expired at ${new Date(expiresAt).toISOString()} (X-Goog-Date plus X-Goog-Expires). Sign a new URL.`,
    };
  }
  if (params.issuedAt - ALLOWED_SKEW_MS > request.now) {
    return bad(
      `The signed URL is not valid before ${new Date(params.issuedAt).toISOString()} (X-Goog-Date); check the signer's clock.`,
    );
  }
  const publicKey =
    params.algorithm === 'GOOG4-RSA-SHA256' ? keys.rsa.get(params.credentialId) : undefined;
  const secret =
    params.algorithm === 'GOOG4-HMAC-SHA256' ? keys.hmac.get(params.credentialId) : undefined;
  if (!publicKey && secret === undefined) {
    return {
      status: 403,
      code: 'AccessDenied',
      message: `The signed URL's credential ${params.credentialId} is not known to this server: configure its key with --signing-key (service accounts) or --hmac-key-file (HMAC keys).`,
    };
  }
  const headers: Record<string, string> = {};
  for (const name of params.signedHeaders) {
    const value = request.headers[name];
    headers[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  let first: { canonical: string; toSign: string } | undefined;
  for (const host of request.hosts) {
    const canonical = canonicalRequest({
      method: request.method,
      path: request.path,
      query: pairs,
      headers: { ...headers, host },
      signedHeaders: params.signedHeaders,
    });
    const toSign = stringToSign(params.algorithm, params.date, params.scope, canonical);
    first ??= { canonical, toSign };
    if (signatureMatches(params, toSign, publicKey, secret)) return undefined;
  }
  return {
    status: 403,
    code: 'SignatureDoesNotMatch',
    message:
      'The request signature we calculated does not match the signature you provided. Check your Google secret key and signing method.',
    stringToSign: first?.toSign,
    canonicalRequest: first?.canonical,
  };
}

function signatureMatches(
  params: SignedUrlParams,
  toSign: string,
  publicKey: KeyObject | undefined,
  secret: string | undefined,
): boolean {
  const given = Buffer.from(params.signature, 'hex');
  if (publicKey) return createVerify('RSA-SHA256').update(toSign).verify(publicKey, given);
  const expected = createHmac('sha256', hmacSigningKey(secret!, params.scope))
    .update(toSign)
    .digest();
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The public key of a PEM private key, public key or certificate. */
export function publicKeyOf(pem: string): KeyObject {
  if (pem.includes('PRIVATE KEY')) return createPublicKey(pem);
  if (pem.includes('CERTIFICATE')) return createPublicKey({ key: pem, format: 'pem' });
  return createPublicKey(pem);
}

/** `YYYYMMDD'T'HHMMSS'Z'`. */
function v4Date(time: number): string {
  return new Date(time)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export interface SignUrlInput {
  readonly method: string;
  /** The URL to sign (scheme, host with port, path, and any query parameters of its own). */
  readonly url: string;
  /** Headers the request will carry and that the signature covers (host is added). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly expiresInSeconds: number;
  readonly now: number;
  readonly location?: string;
}

/** A V4 signed URL, as a backend hands to a browser. */
export function signUrl(credential: SigningCredential, input: SignUrlInput): string {
  const url = new URL(input.url);
  const date = v4Date(input.now);
  const scope = `${date.slice(0, 8)}/${input.location ?? 'auto'}/storage/goog4_request`;
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(input.headers ?? {}))
    headers[name.toLowerCase()] = value;
  const signedHeaders = Object.keys(headers).sort();
  const algorithm: V4Algorithm =
    credential.kind === 'rsa' ? 'GOOG4-RSA-SHA256' : 'GOOG4-HMAC-SHA256';
  const id = credential.kind === 'rsa' ? credential.email : credential.accessId;
  const query: [string, string][] = [
    ...[...url.searchParams.entries()],
    ['X-Goog-Algorithm', algorithm],
    ['X-Goog-Credential', `${id}/${scope}`],
    ['X-Goog-Date', date],
    ['X-Goog-Expires', String(input.expiresInSeconds)],
    ['X-Goog-SignedHeaders', signedHeaders.join(';')],
  ];
  const canonical = canonicalRequest({
    method: input.method,
    path: url.pathname,
    query,
    headers,
    signedHeaders,
  });
  const [, canonicalPath, canonicalQuery] = canonical.split('\n');
  const signature = sign(credential, stringToSign(algorithm, date, scope, canonical), scope);
  return `${url.protocol}//${url.host}${canonicalPath!}?${canonicalQuery!}&X-Goog-Signature=${signature}`;
}
