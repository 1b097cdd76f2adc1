import { createHash } from 'node:crypto';
import {
  crc32cBytes,
  crc32cUpdate,
  encodeBase64,
  type ObjectHasher,
  type ObjectHashes,
} from '@spool/core';
import { useNativeCrc32c } from '@spool/core/native';

useNativeCrc32c();

/**
 * CRC32C (native) and OpenSSL's MD5. The client hashes each byte once, in order, and never needs
 * to save or rewind the state, so the platform's faster MD5 can be used.
 */
export class NativeObjectHasher implements ObjectHasher {
  private crc = 0;
  private readonly md5 = createHash('md5');
  private total = 0;

  get length(): number {
    return this.total;
  }

  update(bytes: Uint8Array): this {
    this.crc = crc32cUpdate(this.crc, bytes);
    this.md5.update(bytes);
    this.total += bytes.length;
    return this;
  }

  digests(): ObjectHashes {
    return {
      crc32c: encodeBase64(crc32cBytes(this.crc)),
      md5Hash: this.md5.copy().digest('base64'),
    };
  }
}
