import type { DeclaredHashes } from './goog-hash.js';
import { crc32cMismatch, md5Mismatch } from './messages.js';
import type { ProtocolError } from './protocol-error.js';
import type { ObjectHashes } from './upload-hasher.js';

/**
 * Checks what the client declared (in the initiation body, and in X-Goog-Hash on the final
 * request) against what the server computed. CRC32C first, as GCS reports it.
 */
export function hashProblem(
  computed: ObjectHashes,
  declared: readonly DeclaredHashes[],
): ProtocolError | undefined {
  for (const d of declared) {
    if (d.crc32c !== undefined && d.crc32c !== computed.crc32c)
      return crc32cMismatch(d.crc32c, computed.crc32c);
  }
  for (const d of declared) {
    if (d.md5Hash !== undefined && d.md5Hash !== computed.md5Hash)
      return md5Mismatch(d.md5Hash, computed.md5Hash);
  }
  return undefined;
}
