import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32cBytes, crc32cUpdate } from './crc32c.js';
import { cutBytes, utf8 } from './arbitraries.test-util.js';

/** CRC32C one bit at a time, straight from the definition (reflected polynomial 0x82F63B78). */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const crcOf = (...pieces: Uint8Array[]): number => pieces.reduce(crc32cUpdate, 0);

describe('crc32cUpdate', () => {
  it('matches the published check values', () => {
    const vectors: [string, Uint8Array, number][] = [
      ['empty', new Uint8Array(0), 0],
      ['"123456789"', utf8('123456789'), 0xe3069283],
      // RFC 3720 (iSCSI) appendix B.4.
      ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
      ['32 0xFF bytes', new Uint8Array(32).fill(0xff), 0x62a8ab43],
      ['32 ascending bytes', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
      ['32 descending bytes', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
      // GCS reports this object as crc32c "yZRlqg==".
      ['"hello world"', utf8('hello world'), 0xc99465aa],
    ];
    for (const [name, bytes, crc] of vectors) {
      assert.equal(crcOf(bytes), crc, name);
      assert.equal(referenceCrc32c(bytes), crc, `reference implementation, ${name}`);
    }
  });

  it('agrees with the bit-by-bit reference at every length around the 8-byte stride', () => {
    for (let n = 0; n <= 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 151 + 7) & 0xff);
      assert.equal(crcOf(bytes), referenceCrc32c(bytes), `${n} bytes`);
    }
  });

  it('equals the reference for any bytes cut into any pieces', () => {
    fc.assert(
      fc.property(cutBytes(), ({ bytes, pieces }) => {
        assert.equal(crcOf(...pieces), referenceCrc32c(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('always returns an unsigned 32-bit value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const crc = crcOf(bytes);
        assert.ok(Number.isInteger(crc) && crc >= 0 && crc <= 0xffffffff, String(crc));
      }),
    );
  });
});

describe('crc32cBytes', () => {
  it('writes the value big-endian', () => {
    assert.deepEqual([...crc32cBytes(0xe3069283)], [0xe3, 0x06, 0x92, 0x83]);
    assert.deepEqual([...crc32cBytes(0)], [0, 0, 0, 0]);
    assert.deepEqual([...crc32cBytes(0xffffffff)], [0xff, 0xff, 0xff, 0xff]);
  });

  it('round-trips any 32-bit value through a big-endian read', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (crc) => {
        assert.equal(Buffer.from(crc32cBytes(crc)).readUInt32BE(0), crc);
      }),
    );
  });
});
