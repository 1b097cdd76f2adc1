import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Md5, type Md5State } from './md5.js';
import { bytesAndSplit, cutBytes, utf8 } from './arbitraries.test-util.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const nodeMd5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex');
const md5Of = (...pieces: Uint8Array[]): string => {
  const md5 = new Md5();
  for (const piece of pieces) md5.update(piece);
  return hex(md5.digest());
};

describe('Md5', () => {
  it('matches the RFC 1321 test vectors', () => {
    const vectors: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      [
        '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
        '57edf4a22be3c955ac49da2e2107b67a',
      ],
    ];
    for (const [text, digest] of vectors)
      assert.equal(md5Of(utf8(text)), digest, JSON.stringify(text));
  });

  it('hashes a million "a" characters, in one piece or in odd-sized updates', () => {
    const million = new Uint8Array(1_000_000).fill(0x61);
    assert.equal(md5Of(million), '7707d6ae4e027c70eea2a935c2296f21');
    const md5 = new Md5();
    for (let i = 0; i < million.length; i += 997) md5.update(million.subarray(i, i + 997));
    assert.equal(hex(md5.digest()), '7707d6ae4e027c70eea2a935c2296f21');
  });

  it('pads correctly at every length around the 56- and 64-byte block boundaries', () => {
    for (const n of [
      0, 1, 54, 55, 56, 57, 63, 64, 65, 118, 119, 120, 121, 127, 128, 129, 183, 184,
    ]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      assert.equal(md5Of(bytes), nodeMd5(bytes), `one shot, ${n} bytes`);
      const byteByByte = [...bytes].map((b) => Uint8Array.of(b));
      assert.equal(md5Of(...byteByByte), nodeMd5(bytes), `byte by byte, ${n} bytes`);
    }
  });

  it('equals node:crypto for any bytes cut into any update() calls', () => {
    fc.assert(
      fc.property(cutBytes(), ({ bytes, pieces }) => {
        assert.equal(md5Of(...pieces), nodeMd5(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('counts the bytes hashed so far', () => {
    fc.assert(
      fc.property(cutBytes(200), ({ bytes, pieces }) => {
        const md5 = new Md5();
        for (const piece of pieces) md5.update(piece);
        assert.equal(md5.length, bytes.length);
      }),
    );
  });

  it('continues from a saved state as if it had never stopped', () => {
    fc.assert(
      fc.property(bytesAndSplit(), ({ bytes, at }) => {
        const state = new Md5().update(bytes.subarray(0, at)).save();
        assert.equal(state.length, at);
        assert.equal(state.tail.length, at % 64);
        const resumed = new Md5(state).update(bytes.subarray(at));
        assert.equal(hex(resumed.digest()), nodeMd5(bytes));
        assert.equal(resumed.length, bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('saves a snapshot that later updates do not change', () => {
    const md5 = new Md5().update(utf8('hello'));
    const state = md5.save();
    md5.update(utf8(' world, and then some more bytes to fill a whole 64-byte block....'));
    assert.equal(hex(new Md5(state).digest()), nodeMd5(utf8('hello')));
  });

  it('can still be extended after digest()', () => {
    fc.assert(
      fc.property(bytesAndSplit(), ({ bytes, at }) => {
        const md5 = new Md5().update(bytes.subarray(0, at));
        const early = hex(md5.digest());
        assert.equal(hex(md5.digest()), early, 'digest() twice gives the same value');
        assert.equal(early, nodeMd5(bytes.subarray(0, at)));
        md5.update(bytes.subarray(at));
        assert.equal(hex(md5.digest()), nodeMd5(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects states that cannot have come from save()', () => {
    const good = new Md5().update(new Uint8Array(70)).save();
    const bad: [string, Md5State][] = [
      ['tail longer than length % 64', { ...good, tail: new Uint8Array(7) }],
      ['tail shorter than length % 64', { ...good, tail: new Uint8Array(5) }],
      ['64-byte tail', { ...good, length: 64, tail: new Uint8Array(64) }],
      ['negative length', { ...good, length: -64, tail: new Uint8Array(0) }],
      ['length beyond 2^53', { ...good, length: 2 ** 60, tail: new Uint8Array(0) }],
      ['fractional length', { ...good, length: 6.5 }],
      ['NaN length', { ...good, length: NaN }],
      ['three words', { ...good, words: [1, 2, 3] as unknown as Md5State['words'] }],
      ['five words', { ...good, words: [1, 2, 3, 4, 5] as unknown as Md5State['words'] }],
      ['fractional word', { ...good, words: [1, 2, 3, 4.5] }],
      ['word above 32 bits', { ...good, words: [1, 2, 3, 2 ** 32] }],
      ['NaN word', { ...good, words: [1, 2, NaN, 4] }],
      ['string word', { ...good, words: [1, 2, '3', 4] as unknown as Md5State['words'] }],
    ];
    for (const [why, state] of bad) assert.throws(() => new Md5(state), RangeError, why);
  });

  it('accepts the words of a state as signed or unsigned 32-bit values', () => {
    const state = new Md5().update(utf8('abc')).save();
    const unsigned = state.words.map((w) => w >>> 0) as unknown as Md5State['words'];
    assert.equal(hex(new Md5({ ...state, words: unsigned }).digest()), nodeMd5(utf8('abc')));
  });
});
