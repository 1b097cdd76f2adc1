/** The requests Spool answers, by path. */
export type Route =
  | { readonly name: 'upload'; readonly bucket: string }
  | { readonly name: 'buckets' }
  | { readonly name: 'bucket'; readonly bucket: string }
  | { readonly name: 'objects'; readonly bucket: string }
  /** `composeTarget` is set when the path ends in /compose (a POST there composes into it). */
  | {
      readonly name: 'object';
      readonly bucket: string;
      readonly object: string;
      readonly composeTarget?: string;
    }
  | { readonly name: 'download'; readonly bucket: string; readonly object: string }
  | { readonly name: 'healthz' }
  | { readonly name: 'readyz' }
  | { readonly name: 'metrics' }
  /** The upload page: `/`, and its files under `/_spool/`. */
  | { readonly name: 'page'; readonly file: string }
  | { readonly name: 'xml-bucket'; readonly bucket: string }
  | { readonly name: 'xml-object'; readonly bucket: string; readonly object: string };

/**
 * First path segments of the JSON API and of Spool's own endpoints. Every other first segment is
 * a bucket of the XML API (`/{bucket}/{object}`), as on storage.googleapis.com.
 */
const RESERVED = new Set([
  'upload',
  'resumable',
  'download',
  'storage',
  'b',
  'healthz',
  'readyz',
  'metrics',
  // Not a possible bucket name (those start with a letter or digit), so never in the way of one.
  '_spool',
]);

/**
 * Matches a raw (still percent-encoded) path. Segments are split before decoding, so an encoded
 * slash stays inside an object name; an unencoded one is part of it too, as GCS accepts both.
 * The `/b/…` form is what @google-cloud/storage sends when STORAGE_EMULATOR_HOST lacks
 * `/storage/v1`; accepting it spares users that trap.
 */
export function matchRoute(path: string, decode: (s: string) => string): Route | undefined {
  if (path === '/healthz') return { name: 'healthz' };
  if (path === '/readyz') return { name: 'readyz' };
  if (path === '/metrics') return { name: 'metrics' };
  if (path === '/') return { name: 'page', file: 'index.html' };
  if (path.startsWith('/_spool/')) return { name: 'page', file: path.slice('/_spool/'.length) };
  for (const prefix of ['/upload/storage/v1/b/', '/resumable/upload/storage/v1/b/']) {
    if (path.startsWith(prefix)) {
      const m = /^([^/]+)\/o\/?$/.exec(path.slice(prefix.length));
      return m ? { name: 'upload', bucket: decode(m[1]!) } : undefined;
    }
  }
  let rest: string;
  let download = false;
  if (path.startsWith('/download/storage/v1/b/')) {
    download = true;
    rest = path.slice('/download/storage/v1/b/'.length);
  } else if (path.startsWith('/storage/v1/b') || path.startsWith('/b/') || path === '/b') {
    rest = path.slice(path.startsWith('/b') ? 2 : '/storage/v1/b'.length);
    if (rest === '' || rest === '/') return { name: 'buckets' };
    if (!rest.startsWith('/')) return undefined;
    rest = rest.slice(1);
  } else {
    return matchXml(path, decode);
  }
  const slash = rest.indexOf('/');
  if (slash < 0) return download ? undefined : { name: 'bucket', bucket: decode(rest) };
  const bucket = decode(rest.slice(0, slash));
  const after = rest.slice(slash + 1);
  if (after === 'o' || after === 'o/') return download ? undefined : { name: 'objects', bucket };
  if (!after.startsWith('o/')) return undefined;
  const raw = after.slice(2);
  const object = decode(raw);
  if (download) return { name: 'download', bucket, object };
  const composeTarget = raw.endsWith('/compose')
    ? decode(raw.slice(0, -'/compose'.length))
    : undefined;
  return { name: 'object', bucket, object, ...(composeTarget !== undefined && { composeTarget }) };
}

function matchXml(path: string, decode: (s: string) => string): Route | undefined {
  const rest = path.slice(1);
  const slash = rest.indexOf('/');
  const first = slash < 0 ? rest : rest.slice(0, slash);
  if (first === '' || RESERVED.has(first)) return undefined;
  const bucket = decode(first);
  if (slash < 0 || slash === rest.length - 1) return { name: 'xml-bucket', bucket };
  return { name: 'xml-object', bucket, object: decode(rest.slice(slash + 1)) };
}
