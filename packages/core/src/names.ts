import { MAX_OBJECT_NAME_BYTES } from './constants.js';

/** UTF-8 length of a string with no lone surrogates. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/**
 * Why `name` cannot be an object name, or undefined if it can. GCS's rules: 1–1024 bytes of valid
 * UTF-8, no carriage return or line feed, not `.` or `..`, not under `.well-known/acme-challenge/`.
 * Spool is stricter in two ways, both written down in docs/protocol.md: it refuses every control
 * character (GCS only advises against most of them), and it refuses `.` and `..` as path segments,
 * which GCS allows but which become path traversal as soon as a tool mirrors a bucket to disk.
 */
export function objectNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'Object names must not be empty.';
  if (hasLoneSurrogate(name)) return 'Object names must be valid UTF-8.';
  const bytes = utf8Length(name);
  if (bytes > MAX_OBJECT_NAME_BYTES) {
    return `Object names are at most ${MAX_OBJECT_NAME_BYTES} bytes of UTF-8; this one has ${bytes}.`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    return 'Object names must not contain control characters (such as NUL, carriage return or line feed).';
  }
  if (name.split('/').some((segment) => segment === '.' || segment === '..')) {
    return 'Object names must not contain "." or ".." as a path segment.';
  }
  if (name.startsWith('.well-known/acme-challenge/')) {
    return 'Object names must not start with ".well-known/acme-challenge/".';
  }
  return undefined;
}

/**
 * Why `name` cannot be a bucket name, or undefined if it can: 3–63 characters (up to 222 when
 * dotted, each dot-separated part at most 63) of lowercase letters, digits, `-`, `_` and `.`,
 * starting and ending with a letter or digit, not an IP address, no "goog" prefix, no "google".
 */
export function bucketNameProblem(name: string): string | undefined {
  const rules =
    'Bucket names have 3-63 characters (up to 222 with dots) of lowercase letters, digits, "-", "_" and ".", and start and end with a letter or digit.';
  if (name.length < 3 || name.length > 222) return rules;
  if (!/^[a-z0-9][a-z0-9._-]*[a-z0-9]$/.test(name)) return rules;
  if (!name.includes('.') && name.length > 63) return rules;
  if (name.split('.').some((part) => part.length === 0 || part.length > 63)) return rules;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'Bucket names must not be IP addresses.';
  if (name.startsWith('goog') || name.includes('google') || name.includes('g00gle')) {
    return 'Bucket names must not start with "goog" or contain "google".';
  }
  return undefined;
}

/**
 * Orders names as GCS lists them: by UTF-8 bytes, which is code point order. JavaScript's `<`
 * compares UTF-16 code units and would put U+FF00 after U+1F600.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
