import { parseGoogHash, type UploadChecksums } from '@spool/core';
import type { Exchange } from './exchange.js';

/** The object resource GCS answers a finished upload with (64-bit numbers as strings). */
export interface ObjectResource {
  readonly bucket?: string;
  readonly name?: string;
  readonly size: string;
  readonly crc32c?: string;
  readonly md5Hash?: string;
  readonly generation?: string;
  readonly [field: string]: unknown;
}

/**
 * The object in a 200/201 answer, or undefined if the answer does not carry one (a body cut short
 * is what a broken connection looks like; the client then asks again).
 */
export function objectFromResponse(exchange: Exchange): ObjectResource | undefined {
  const text = exchange.text();
  if (text.trim() !== '') {
    try {
      const json = JSON.parse(text) as Partial<ObjectResource> | null;
      if (
        json &&
        typeof json === 'object' &&
        typeof json.size === 'string' &&
        /^\d+$/.test(json.size)
      ) {
        return json as ObjectResource;
      }
    } catch {
      // Truncated JSON.
    }
    return undefined;
  }
  // Sessions started through the XML API (signed URLs) finish with an empty body; the object's
  // size and hashes are in headers.
  const size = exchange.header('x-goog-stored-content-length');
  if (size === undefined || !/^\d+$/.test(size)) return undefined;
  const hashes = parseGoogHash(exchange.header('x-goog-hash'));
  const generation = exchange.header('x-goog-generation');
  return {
    size,
    ...(hashes.ok ? hashes.value : {}),
    ...(generation !== undefined && { generation }),
  };
}

/** What differs between the object the server stored and what was sent; empty when all match. */
export function integrityProblems(
  object: ObjectResource,
  size: number,
  hashes: UploadChecksums,
): string[] {
  const problems: string[] = [];
  if (object.size !== String(size)) problems.push(`size ${object.size}, not ${size}`);
  if (object.crc32c === undefined) problems.push('no crc32c to check');
  else if (object.crc32c !== hashes.crc32c) {
    problems.push(`crc32c ${object.crc32c}, not ${hashes.crc32c}`);
  }
  // Composite objects have no MD5; when there is one and the client computed one, they must match.
  if (
    object.md5Hash !== undefined &&
    hashes.md5Hash !== undefined &&
    object.md5Hash !== hashes.md5Hash
  ) {
    problems.push(`md5Hash ${object.md5Hash}, not ${hashes.md5Hash}`);
  }
  return problems;
}
