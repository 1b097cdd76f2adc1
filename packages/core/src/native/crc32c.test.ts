import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc32cPortable, crc32cUpdate } from '../crc32c.js';
import { useNativeCrc32c } from './crc32c.js';

describe('native CRC32C', () => {
  it('computes exactly what the portable kernel does, however the bytes are split', () => {
    useNativeCrc32c();
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 5000 }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (pieces, seed) => {
          let native = seed;
          let portable = seed;
          for (const piece of pieces) {
            native = crc32cUpdate(native, piece);
            portable = crc32cPortable(portable, piece);
          }
          assert.equal(native, portable);
        },
      ),
    );
  });
});
