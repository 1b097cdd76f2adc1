import { encodeBase64, decodeBase64 } from './base64.js';
import { crc32cBytes, crc32cUpdate } from './crc32c.js';
import { Md5 } from './md5.js';

/** The JSON form of an UploadHasher, stored with a session so a restart need not re-read its data. */
export interface HashState {
  readonly length: number;
  readonly crc32c: number;
  readonly md5: { readonly words: [number, number, number, number]; readonly tail: string };
}

/** The digests of an object as GCS spells them: base64 of the big-endian CRC32C and of the MD5. */
export interface ObjectHashes {
  readonly crc32c: string;
  readonly md5Hash: string;
}

/** The digests a client checks an upload with: CRC32C always, MD5 when it computed one. */
export interface UploadChecksums {
  readonly crc32c: string;
  readonly md5Hash?: string;
}

/** What an uploader needs of a hash: bytes fed in order, and GCS's digests of them. */
export interface ObjectHasher {
  readonly length: number;
  update(bytes: Uint8Array): unknown;
  digests(): UploadChecksums;
}

/** An MD5 implementation a ChecksumHasher can use: this package's, or a platform's faster one. */
export interface Md5Digest {
  update(bytes: Uint8Array): unknown;
  digest(): Uint8Array;
}

/**
 * A client's hashes: CRC32C, and MD5 only when given one. Like Google's own clients, Spool's
 * checks uploads with CRC32C by default: it catches what MD5 would for transfer and storage
 * errors, and MD5 doubles the client's CPU per byte. The state is never saved.
 */
export class ChecksumHasher implements ObjectHasher {
  private crc = 0;
  private total = 0;

  constructor(private readonly md5?: Md5Digest) {}

  get length(): number {
    return this.total;
  }

  update(bytes: Uint8Array): this {
    this.crc = crc32cUpdate(this.crc, bytes);
    this.md5?.update(bytes);
    this.total += bytes.length;
    return this;
  }

  digests(): UploadChecksums {
    const crc32c = encodeBase64(crc32cBytes(this.crc));
    return this.md5 ? { crc32c, md5Hash: encodeBase64(this.md5.digest()) } : { crc32c };
  }
}

/** CRC32C and MD5 of a byte stream, computed together, savable at any point. */
export class UploadHasher implements ObjectHasher {
  private crc: number;
  private readonly md5: Md5;

  constructor(state?: HashState) {
    if (state) {
      const tail = decodeBase64(state.md5.tail);
      if (!tail) throw new RangeError('Invalid hash state: the MD5 tail is not base64.');
      const crc = state.crc32c;
      if (!Number.isInteger(crc) || crc < 0 || crc > 0xffffffff) {
        throw new RangeError('Invalid hash state: the CRC32C is not an unsigned 32-bit integer.');
      }
      this.crc = crc;
      this.md5 = new Md5({ words: state.md5.words, length: state.length, tail });
    } else {
      this.crc = 0;
      this.md5 = new Md5();
    }
  }

  get length(): number {
    return this.md5.length;
  }

  update(bytes: Uint8Array): this {
    this.crc = crc32cUpdate(this.crc, bytes);
    this.md5.update(bytes);
    return this;
  }

  save(): HashState {
    const md5 = this.md5.save();
    return {
      length: md5.length,
      crc32c: this.crc,
      md5: { words: [...md5.words], tail: encodeBase64(md5.tail) },
    };
  }

  digests(): ObjectHashes {
    return {
      crc32c: encodeBase64(crc32cBytes(this.crc)),
      md5Hash: encodeBase64(this.md5.digest()),
    };
  }
}
