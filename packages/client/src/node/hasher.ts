import { createHash } from 'node:crypto';
import { ChecksumHasher, type ObjectHasher } from '@spool/core';
import { useNativeCrc32c } from '@spool/core/native';

useNativeCrc32c();

/**
 * The client's hasher in Node: native CRC32C and, when asked for, OpenSSL's MD5. The client
 * hashes each byte once, in order, and never saves the state, so the platform's MD5 will do.
 */
export function nodeHasher(md5: boolean): ObjectHasher {
  if (!md5) return new ChecksumHasher();
  const hash = createHash('md5');
  return new ChecksumHasher({
    update: (bytes) => hash.update(bytes),
    digest: () => hash.copy().digest(),
  });
}
