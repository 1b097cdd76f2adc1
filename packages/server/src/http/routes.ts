/** The requests Spool answers, by path. */
export type Route =
  | { readonly name: 'upload'; readonly bucket: string }
  | { readonly name: 'buckets' }
  | { readonly name: 'bucket'; readonly bucket: string }
  | { readonly name: 'objects'; readonly bucket: string }
  | { readonly name: 'object'; readonly bucket: string; readonly object: string }
  | { readonly name: 'download'; readonly bucket: string; readonly object: string }
  | { readonly name: 'healthz' };

/**
 * Matches a raw (still percent-encoded) path. Segments are split before decoding, so an encoded
 * slash stays inside an object name; an unencoded one is part of it too, as GCS accepts both.
 * The `/b/…` form is what @google-cloud/storage sends when STORAGE_EMULATOR_HOST lacks
 * `/storage/v1`; accepting it spares users that trap.
 */
export function matchRoute(path: string, decode: (s: string) => string): Route | undefined {
  if (path === '/healthz') return { name: 'healthz' };
  let rest: string | undefined;
  for (const prefix of ['/upload/storage/v1/b/', '/resumable/upload/storage/v1/b/']) {
    if (path.startsWith(prefix)) {
      const m = /^([^/]+)\/o\/?$/.exec(path.slice(prefix.length));
      return m ? { name: 'upload', bucket: decode(m[1]!) } : undefined;
    }
  }
  let download = false;
  if (path.startsWith('/download/storage/v1/b/')) {
    download = true;
    rest = path.slice('/download/storage/v1/b/'.length);
  } else if (path.startsWith('/storage/v1/b')) {
    rest = path.slice('/storage/v1/b'.length);
  } else if (path.startsWith('/b/') || path === '/b') {
    rest = path.slice('/b'.length);
  } else {
    return undefined;
  }
  if (!download) {
    if (rest === '' || rest === '/') return { name: 'buckets' };
    if (!rest.startsWith('/')) return undefined;
    rest = rest.slice(1);
  }
  const slash = rest.indexOf('/');
  if (slash < 0) return download ? undefined : { name: 'bucket', bucket: decode(rest) };
  const bucket = decode(rest.slice(0, slash));
  const after = rest.slice(slash + 1);
  if (after === 'o' || after === 'o/') return download ? undefined : { name: 'objects', bucket };
  if (!after.startsWith('o/')) return undefined;
  const object = decode(after.slice(2));
  return download ? { name: 'download', bucket, object } : { name: 'object', bucket, object };
}
