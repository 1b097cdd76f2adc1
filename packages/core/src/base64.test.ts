import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBase64, encodeBase64 } from './base64.js';
import { utf8 } from './arbitraries.test-util.js';

describe('encodeBase64', () => {
  it('matches the RFC 4648 test vectors', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [text, encoded] of vectors) {
      assert.equal(encodeBase64(utf8(text)), encoded);
      assert.deepEqual(decodeBase64(encoded), utf8(text));
    }
  });

  it("equals Buffer's base64 for any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        assert.equal(encodeBase64(bytes), Buffer.from(bytes).toString('base64'));
      }),
      { numRuns: 300 },
    );
  });

  it('encodes a view, not the whole buffer behind it', () => {
    const buffer = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    assert.equal(encodeBase64(buffer.subarray(2, 4)), Buffer.from([3, 4]).toString('base64'));
  });
});

describe('decodeBase64', () => {
  it('inverts encodeBase64', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every string that is not canonical padded standard base64', () => {
    const bad: [string, string][] = [
      ['length not a multiple of 4', 'Zg='],
      ['length not a multiple of 4', 'Zm9'],
      ['length not a multiple of 4', 'Zm9vY'],
      ['unpadded', 'Zg'],
      ['URL-safe alphabet', 'ab-_'],
      ['character outside the alphabet', 'Zm9!'],
      ['space', 'Zm 9'],
      ['newline', 'Zm9v\nZm9v'],
      ['non-ASCII letter', 'Zm9é'],
      ['character whose low byte is a letter', 'Zm9\u0156'],
      ['padding only', '===='],
      ['three padding characters', 'Z==='],
      ['padding before data', '=Zm9'],
      ['padding inside a group', 'Zg=A'],
      ['padding in a middle group', 'Zg==Zm9v'],
      ['stray bits after one byte', 'Zh=='],
      ['stray bits after two bytes', 'Zm9='],
    ];
    for (const [why, text] of bad)
      assert.equal(decodeBase64(text), undefined, `${why}: ${JSON.stringify(text)}`);
  });

  it('never throws, and whatever it accepts re-encodes to the same text', () => {
    const base64ish = fc.string({
      unit: fc.constantFrom(...'AZaz09+/=Qgh-_ \u00e9'.split('')),
      maxLength: 12,
    });
    fc.assert(
      fc.property(fc.oneof(fc.string(), base64ish), (text) => {
        const bytes = decodeBase64(text);
        if (bytes !== undefined) assert.equal(encodeBase64(bytes), text);
      }),
      { numRuns: 1000 },
    );
  });

  it("accepts exactly what Buffer's encoder produces", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 50 }), (bytes) => {
        assert.deepEqual(decodeBase64(Buffer.from(bytes).toString('base64')), bytes);
      }),
    );
  });
});
