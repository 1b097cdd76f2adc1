import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UploadHasher } from '@spool/core';
import { NativeObjectHasher } from './hasher.js';

describe('NativeObjectHasher', () => {
  it('gives the digests of the portable UploadHasher, and can be read more than once', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 10 }), (pieces) => {
        const native = new NativeObjectHasher();
        const portable = new UploadHasher();
        for (const piece of pieces) {
          native.update(piece);
          portable.update(piece);
        }
        assert.deepEqual(native.digests(), portable.digests());
        assert.deepEqual(native.digests(), portable.digests());
        assert.equal(native.length, portable.length);
      }),
    );
  });
});
