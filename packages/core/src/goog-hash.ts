import { decodeBase64 } from './base64.js';
import { protocolError } from './protocol-error.js';
import { fail, ok, type Result } from './protocol-error.js';

/** Hashes a client declares for the object, base64 as GCS writes them. */
export interface DeclaredHashes {
  readonly crc32c?: string;
  readonly md5Hash?: string;
}

const invalid = (detail: string) =>
  protocolError(
    400,
    'invalid',
    `Invalid X-Goog-Hash header: ${detail} Expected "crc32c=<base64 of 4 bytes>,md5=<base64 of 16 bytes>".`,
  );

/**
 * Parses `X-Goog-Hash`, given as one comma-separated value or several header lines (pass them
 * joined with commas). Unknown algorithms are ignored; a known one with a malformed value, or
 * given twice with different values, is an error.
 */
export function parseGoogHash(header: string | undefined): Result<DeclaredHashes> {
  if (header === undefined || header.trim() === '') return ok({});
  if (header.length > 1024) return fail(invalid('the header is too long.'));
  let crc32c: string | undefined;
  let md5Hash: string | undefined;
  for (const part of header.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) return fail(invalid(`"${item.slice(0, 40)}" is not of the form name=value.`));
    const name = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1).trim();
    if (name === 'crc32c' || name === 'md5') {
      const bytes = decodeBase64(value);
      const want = name === 'crc32c' ? 4 : 16;
      if (!bytes || bytes.length !== want) {
        return fail(invalid(`the ${name} value is not base64 of ${want} bytes.`));
      }
      const earlier = name === 'crc32c' ? crc32c : md5Hash;
      if (earlier !== undefined && earlier !== value) {
        return fail(invalid(`${name} is given twice with different values.`));
      }
      if (name === 'crc32c') crc32c = value;
      else md5Hash = value;
    }
  }
  return ok({ ...(crc32c !== undefined && { crc32c }), ...(md5Hash !== undefined && { md5Hash }) });
}

export function formatGoogHash(hashes: DeclaredHashes): string {
  const parts: string[] = [];
  if (hashes.crc32c !== undefined) parts.push(`crc32c=${hashes.crc32c}`);
  if (hashes.md5Hash !== undefined) parts.push(`md5=${hashes.md5Hash}`);
  return parts.join(',');
}
