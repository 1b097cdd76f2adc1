import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32cUpdate } from './crc32c.js';
import { UploadHasher, type HashState } from './upload-hasher.js';
import { bytesAndSplit, cutBytes, utf8 } from './arbitraries.test-util.js';

/** The digests as GCS would report them, computed with Buffer and node:crypto. */
function expectedDigests(bytes: Uint8Array): { crc32c: string; md5Hash: string } {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32cUpdate(0, bytes));
  return {
    crc32c: crc.toString('base64'),
    md5Hash: createHash('md5').update(bytes).digest('base64'),
  };
}

const viaJson = (state: HashState): HashState => JSON.parse(JSON.stringify(state)) as HashState;

describe('UploadHasher', () => {
  it('reports the digests GCS reports for known objects', () => {
    assert.deepEqual(new UploadHasher().digests(), {
      crc32c: 'AAAAAA==',
      md5Hash: '1B2M2Y8AsgTpgAmY7PhCfg==',
    });
    assert.deepEqual(new UploadHasher().update(utf8('hello world')).digests(), {
      crc32c: 'yZRlqg==',
      md5Hash: 'XrY7u+Ae7tCTyyK7j1rNww==',
    });
  });

  it('equals Buffer/node:crypto base64 digests for any bytes in any pieces', () => {
    fc.assert(
      fc.property(cutBytes(), ({ bytes, pieces }) => {
        const hasher = new UploadHasher();
        for (const piece of pieces) hasher.update(piece);
        assert.deepEqual(hasher.digests(), expectedDigests(bytes));
        assert.equal(hasher.length, bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('resumes from a state saved as JSON at any point', () => {
    fc.assert(
      fc.property(bytesAndSplit(), ({ bytes, at }) => {
        const state = viaJson(new UploadHasher().update(bytes.subarray(0, at)).save());
        assert.equal(state.length, at);
        const resumed = new UploadHasher(state).update(bytes.subarray(at));
        assert.deepEqual(resumed.digests(), expectedDigests(bytes));
        assert.equal(resumed.length, bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('survives several save/restore cycles in a row', () => {
    fc.assert(
      fc.property(cutBytes(), ({ bytes, pieces }) => {
        let state = new UploadHasher().save();
        for (const piece of pieces) state = viaJson(new UploadHasher(state).update(piece).save());
        assert.deepEqual(new UploadHasher(state).digests(), expectedDigests(bytes));
      }),
      { numRuns: 100 },
    );
  });

  it('gives the same digests before and after a save', () => {
    const hasher = new UploadHasher().update(utf8('some bytes'));
    const before = hasher.digests();
    assert.deepEqual(new UploadHasher(viaJson(hasher.save())).digests(), before);
    assert.deepEqual(hasher.digests(), before);
  });

  it('rejects a corrupt saved state', () => {
    const good = new UploadHasher().update(utf8('0123456789')).save();
    const bad: [string, HashState][] = [
      ['MD5 tail not base64', { ...good, md5: { ...good.md5, tail: '***' } }],
      ['MD5 tail of the wrong length', { ...good, md5: { ...good.md5, tail: 'AAAA' } }],
      ['length that disagrees with the tail', { ...good, length: 11 }],
      ['negative CRC', { ...good, crc32c: -1 }],
      ['CRC above 32 bits', { ...good, crc32c: 2 ** 32 }],
      ['fractional CRC', { ...good, crc32c: 1.5 }],
      ['CRC as a string', { ...good, crc32c: '123' as unknown as number }],
    ];
    for (const [why, state] of bad) assert.throws(() => new UploadHasher(state), RangeError, why);
  });
});
