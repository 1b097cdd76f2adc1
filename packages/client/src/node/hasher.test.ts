import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ChecksumHasher, Md5, UploadHasher } from '@spool/core';
import { nodeHasher } from './hasher.js';

describe('client hashers', () => {
  it('give the digests of the portable UploadHasher, MD5 only when asked, read more than once', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 10 }), (pieces) => {
        const withMd5 = [nodeHasher(true), new ChecksumHasher(new Md5())];
        const crcOnly = [nodeHasher(false), new ChecksumHasher()];
        const portable = new UploadHasher();
        for (const piece of pieces) {
          for (const hasher of [...withMd5, ...crcOnly]) hasher.update(piece);
          portable.update(piece);
        }
        const expected = portable.digests();
        for (const hasher of withMd5) {
          assert.deepEqual(hasher.digests(), expected);
          assert.deepEqual(hasher.digests(), expected);
          assert.equal(hasher.length, portable.length);
        }
        for (const hasher of crcOnly)
          assert.deepEqual(hasher.digests(), { crc32c: expected.crc32c });
      }),
    );
  });
});
