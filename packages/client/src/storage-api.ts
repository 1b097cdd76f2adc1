import { UploadHasher, parseGoogHash, parsePersistedRange } from '@spool/core';
import {
  DEFAULT_STALL_TIMEOUT,
  requestHeaders,
  statusHint,
  type ConnectionOptions,
} from './connection.js';
import { DEFAULT_ENDPOINT, normalizeEndpoint, urls } from './destination.js';
import { HttpError, IntegrityError, type RequestContext } from './errors.js';
import { exchange, openExchange, serverMessage, type Exchange } from './exchange.js';
import { objectFromResponse, type ObjectResource } from './object.js';
import { readBody } from './transport.js';

// The calls around an upload that the `spool` command offers: a session's status, cancelling it,
// listing a bucket, downloading an object. One attempt each; errors say what the server said.

async function call(
  method: 'GET' | 'PUT' | 'DELETE',
  url: string,
  what: string,
  options: ConnectionOptions,
  extraHeaders: Record<string, string> = {},
): Promise<Exchange> {
  const endpoint = normalizeEndpoint(options.endpoint ?? DEFAULT_ENDPOINT);
  const context: RequestContext = { method, what, url };
  return exchange(
    options.transport,
    {
      method,
      url,
      headers: { ...(await requestHeaders(url, endpoint, options)), ...extraHeaders },
    },
    {
      signal: options.signal ?? new AbortController().signal,
      stallTimeout: options.stallTimeout ?? DEFAULT_STALL_TIMEOUT,
      context,
    },
  );
}

function refused(ex: Exchange, context: RequestContext, options: ConnectionOptions): HttpError {
  return new HttpError(
    ex.status,
    serverMessage(ex),
    context,
    ex.header('x-guploader-uploadid'),
    statusHint(ex.status, options.token !== undefined),
  );
}

export type SessionStatus =
  | { readonly complete: false; readonly persisted: number }
  | { readonly complete: true; readonly object: ObjectResource };

// What the server has of a session: PUT with Content-Range: bytes */*.
export async function querySession(
  uri: string,
  options: ConnectionOptions,
): Promise<SessionStatus> {
  const what = "asking for the session's status (Content-Range: bytes */*)";
  const ex = await call('PUT', uri, what, options, { 'content-range': 'bytes */*' });
  if (ex.status === 308) {
    const persisted = parsePersistedRange(ex.header('range'));
    if (persisted !== undefined) return { complete: false, persisted };
  }
  if (ex.status === 200 || ex.status === 201) {
    const object = objectFromResponse(ex);
    if (object) return { complete: true, object };
  }
  throw refused(ex, { method: 'PUT', what, url: uri }, options);
}

/** Cancels a session (`DELETE`; GCS answers 499). Its bytes are dropped for good. */
export async function cancelSession(uri: string, options: ConnectionOptions): Promise<void> {
  const ex = await call('DELETE', uri, 'cancelling the session', options);
  if (ex.status === 499 || ex.status === 204) return;
  const context = { method: 'DELETE', what: 'cancelling the session', url: uri };
  if (ex.status === 200 || ex.status === 201) {
    throw new HttpError(
      ex.status,
      'the upload is already complete; there is nothing to cancel',
      context,
      undefined,
    );
  }
  throw refused(ex, context, options);
}

/** Every object in a bucket whose name starts with `prefix`, page after page. */
export async function* listObjects(
  bucket: string,
  prefix: string,
  options: ConnectionOptions,
): AsyncGenerator<ObjectResource> {
  const endpoint = normalizeEndpoint(options.endpoint ?? DEFAULT_ENDPOINT);
  let pageToken: string | undefined;
  do {
    const query = new URLSearchParams({ prefix });
    if (pageToken !== undefined) query.set('pageToken', pageToken);
    const url = `${urls.objects(endpoint, bucket)}?${query.toString()}`;
    const what = `listing gs://${bucket}/${prefix}`;
    const ex = await call('GET', url, what, options);
    if (ex.status !== 200) throw refused(ex, { method: 'GET', what, url }, options);
    const page = JSON.parse(ex.text()) as { items?: ObjectResource[]; nextPageToken?: string };
    yield* page.items ?? [];
    pageToken = page.nextPageToken;
  } while (pageToken !== undefined);
}

/** The names of the buckets the caller may use (a token limited to some sees only those). */
export async function listBuckets(options: ConnectionOptions): Promise<string[]> {
  const url = urls.buckets(normalizeEndpoint(options.endpoint ?? DEFAULT_ENDPOINT));
  const what = 'listing buckets';
  const ex = await call('GET', url, what, options);
  if (ex.status !== 200) throw refused(ex, { method: 'GET', what, url }, options);
  const page = JSON.parse(ex.text()) as { items?: { name: string }[] };
  return (page.items ?? []).map((bucket) => bucket.name);
}

/**
 * An object's bytes, checked as they arrive: once the body ends, its size and hashes must match
 * what the server declares (x-goog-stored-content-length, x-goog-hash), or the iteration throws
 * an IntegrityError.
 */
export async function* download(
  bucket: string,
  object: string,
  options: ConnectionOptions,
): AsyncGenerator<Uint8Array> {
  const endpoint = normalizeEndpoint(options.endpoint ?? DEFAULT_ENDPOINT);
  const url = `${urls.object(endpoint, bucket, object)}?alt=media`;
  const context: RequestContext = {
    method: 'GET',
    what: `downloading gs://${bucket}/${object}`,
    url,
  };
  const open = await openExchange(
    options.transport,
    { method: 'GET', url, headers: await requestHeaders(url, endpoint, options) },
    {
      signal: options.signal ?? new AbortController().signal,
      stallTimeout: options.stallTimeout ?? DEFAULT_STALL_TIMEOUT,
      context,
    },
  );
  try {
    if (open.status !== 200) {
      const body = await readBody(open.body, 1024 * 1024).catch(() => new Uint8Array(0));
      const ex: Exchange = { ...open, body, text: () => new TextDecoder().decode(body) };
      throw refused(ex, context, options);
    }
    const hasher = new UploadHasher();
    for await (const piece of open.body) {
      hasher.update(piece);
      yield piece;
    }
    const declared = parseGoogHash(open.header('x-goog-hash'));
    const size = open.header('x-goog-stored-content-length') ?? open.header('content-length');
    const got = hasher.digests();
    const problems: string[] = [];
    if (size !== undefined && size !== String(hasher.length)) {
      problems.push(`${hasher.length} bytes arrived, the server declared ${size}`);
    }
    if (declared.ok) {
      const { crc32c, md5Hash } = declared.value;
      if (crc32c !== undefined && crc32c !== got.crc32c)
        problems.push(`crc32c ${got.crc32c}, not ${crc32c}`);
      if (md5Hash !== undefined && md5Hash !== got.md5Hash)
        problems.push(`md5 ${got.md5Hash}, not ${md5Hash}`);
    }
    if (problems.length > 0) {
      throw new IntegrityError(
        `The download of gs://${bucket}/${object} is corrupt: ${problems.join('; ')}.`,
      );
    }
  } finally {
    open.close();
  }
}
