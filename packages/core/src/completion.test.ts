import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashProblem } from './completion.js';

const computed = { crc32c: 'yZRlqg==', md5Hash: 'XrY7u+Ae7tCTyyK7j1rNww==' };
const WRONG_CRC = 'AAAAAA==';
const WRONG_MD5 = '1B2M2Y8AsgTpgAmY7PhCfg==';

describe('hashProblem', () => {
  it('finds nothing when nothing is declared', () => {
    assert.equal(hashProblem(computed, []), undefined);
    assert.equal(hashProblem(computed, [{}, {}]), undefined);
  });

  it('finds nothing when every declaration matches', () => {
    assert.equal(
      hashProblem(computed, [computed, { crc32c: computed.crc32c }, { md5Hash: computed.md5Hash }]),
      undefined,
    );
  });

  it('reports a CRC32C mismatch in the words GCS uses', () => {
    assert.deepEqual(hashProblem(computed, [{ crc32c: WRONG_CRC }]), {
      status: 400,
      reason: 'invalid',
      message: `Provided CRC32C "${WRONG_CRC}" doesn't match calculated CRC32C "yZRlqg==".`,
      format: 'json',
    });
  });

  it('reports an MD5 mismatch in the words GCS uses', () => {
    assert.deepEqual(hashProblem(computed, [{ md5Hash: WRONG_MD5 }]), {
      status: 400,
      reason: 'invalid',
      message: `Provided MD5 hash "${WRONG_MD5}" doesn't match calculated MD5 hash "XrY7u+Ae7tCTyyK7j1rNww==".`,
      format: 'json',
    });
  });

  it('reports CRC32C first, wherever it was declared', () => {
    const problem = hashProblem(computed, [{ md5Hash: WRONG_MD5 }, { crc32c: WRONG_CRC }]);
    assert.match(problem?.message ?? '', /^Provided CRC32C/);
  });

  it('checks every declaration, not only the first', () => {
    // The initiation body matches; the final request's X-Goog-Hash does not.
    const problem = hashProblem(computed, [computed, { crc32c: WRONG_CRC }]);
    assert.match(problem?.message ?? '', /Provided CRC32C "AAAAAA=="/);
  });
});
