import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeBase64 } from './base64.js';
import { formatGoogHash, parseGoogHash, type DeclaredHashes } from './goog-hash.js';

// The digests of "hello world".
const CRC = 'yZRlqg==';
const MD5 = 'XrY7u+Ae7tCTyyK7j1rNww==';
const OTHER_CRC = 'AAAAAA==';

function parsed(header: string | undefined): DeclaredHashes {
  const result = parseGoogHash(header);
  assert.ok(result.ok, `${JSON.stringify(header)} should parse`);
  return result.value;
}

function errorMessage(header: string): string {
  const result = parseGoogHash(header);
  assert.ok(!result.ok, `${JSON.stringify(header)} should be refused`);
  assert.equal(result.error.status, 400);
  return result.error.message;
}

describe('parseGoogHash', () => {
  it('reads nothing from an absent or blank header', () => {
    assert.deepEqual(parsed(undefined), {});
    assert.deepEqual(parsed(''), {});
    assert.deepEqual(parsed('   '), {});
  });

  it('reads one algorithm, or both joined by a comma', () => {
    assert.deepEqual(parsed(`crc32c=${CRC}`), { crc32c: CRC });
    assert.deepEqual(parsed(`md5=${MD5}`), { md5Hash: MD5 });
    assert.deepEqual(parsed(`crc32c=${CRC},md5=${MD5}`), { crc32c: CRC, md5Hash: MD5 });
    assert.deepEqual(parsed(` md5 = ${MD5} ,  crc32c=${CRC} `), { crc32c: CRC, md5Hash: MD5 });
    assert.deepEqual(parsed(`CRC32C=${CRC},MD5=${MD5}`), { crc32c: CRC, md5Hash: MD5 });
    assert.deepEqual(parsed(`crc32c=${CRC},,`), { crc32c: CRC });
  });

  it('ignores algorithms it does not know', () => {
    assert.deepEqual(parsed('sha256=whatever'), {});
    assert.deepEqual(parsed(`sha1=x,crc32c=${CRC},adler32=!!`), { crc32c: CRC });
  });

  it('accepts the same value given twice (two header lines saying the same)', () => {
    assert.deepEqual(parsed(`crc32c=${CRC},crc32c=${CRC}`), { crc32c: CRC });
  });

  it('refuses an algorithm given twice with different values', () => {
    assert.match(errorMessage(`crc32c=${CRC},crc32c=${OTHER_CRC}`), /crc32c is given twice/);
    assert.match(errorMessage(`md5=${MD5},md5=1B2M2Y8AsgTpgAmY7PhCfg==`), /md5 is given twice/);
  });

  it('refuses items that are not name=value', () => {
    for (const header of ['crc32c', `=${CRC}`, `crc32c=${CRC},md5`]) {
      assert.match(errorMessage(header), /not of the form name=value/, header);
    }
  });

  it('refuses known algorithms whose value is not base64 of the right length', () => {
    const cases: [string, RegExp][] = [
      ['crc32c=', /crc32c value is not base64 of 4 bytes/],
      ['crc32c=yZRlqg', /crc32c value/], // unpadded
      ['crc32c=yZRlqh==', /crc32c value/], // non-canonical
      ['crc32c=yZR!qg==', /crc32c value/],
      ['crc32c=AAAAAAAA', /crc32c value/], // 6 bytes
      ['crc32c=AA==', /crc32c value/], // 1 byte
      [`crc32c=${MD5}`, /crc32c value/],
      [`md5=${CRC}`, /md5 value is not base64 of 16 bytes/],
      ['md5=hex0123456789abcdef0123456789abcd', /md5 value/],
    ];
    for (const [header, message] of cases) assert.match(errorMessage(header), message, header);
  });

  it('refuses an unreasonably long header', () => {
    assert.match(errorMessage(`crc32c=${CRC},${'x=y,'.repeat(300)}`), /too long/);
  });

  it('never throws, whatever the header', () => {
    fc.assert(
      fc.property(fc.string(), (header) => {
        parseGoogHash(header);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('formatGoogHash', () => {
  it('writes what is declared, crc32c first', () => {
    assert.equal(formatGoogHash({}), '');
    assert.equal(formatGoogHash({ md5Hash: MD5, crc32c: CRC }), `crc32c=${CRC},md5=${MD5}`);
    assert.equal(formatGoogHash({ md5Hash: MD5 }), `md5=${MD5}`);
  });

  it('round-trips with parseGoogHash', () => {
    const digest = (length: number) =>
      fc.option(fc.uint8Array({ minLength: length, maxLength: length }).map(encodeBase64), {
        nil: undefined,
      });
    fc.assert(
      fc.property(digest(4), digest(16), (crc32c, md5Hash) => {
        const hashes: DeclaredHashes = {
          ...(crc32c !== undefined && { crc32c }),
          ...(md5Hash !== undefined && { md5Hash }),
        };
        assert.deepEqual(parsed(formatGoogHash(hashes)), hashes);
      }),
    );
  });
});
