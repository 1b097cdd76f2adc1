import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UploadHasher } from '@spool/core';
import type { Exchange } from './exchange.js';
import { integrityProblems, objectFromResponse } from './object.js';

function response(body: string, headers: Record<string, string> = {}): Exchange {
  const bytes = new TextEncoder().encode(body);
  return { status: 200, header: (n) => headers[n], body: bytes, text: () => body };
}

describe('the object in a final answer', () => {
  const hashes = new UploadHasher().update(new TextEncoder().encode('hello')).digests();

  it('is the JSON object resource, or nothing when the body is cut short', () => {
    const object = { name: 'o', bucket: 'b', size: '5', ...hashes };
    assert.deepEqual(objectFromResponse(response(JSON.stringify(object))), object);
    assert.equal(objectFromResponse(response(JSON.stringify(object).slice(0, 20))), undefined);
    assert.equal(objectFromResponse(response('')), undefined);
    assert.equal(objectFromResponse(response('{"size": 5}')), undefined);
  });

  it('comes from headers when an XML API session finishes with an empty body', () => {
    const object = objectFromResponse(
      response('', {
        'x-goog-stored-content-length': '5',
        'x-goog-hash': `crc32c=${hashes.crc32c}, md5=${hashes.md5Hash}`,
        'x-goog-generation': '7',
      }),
    );
    assert.deepEqual(object, { size: '5', ...hashes, generation: '7' });
  });

  it('must have the size and hashes of what was sent', () => {
    assert.deepEqual(integrityProblems({ size: '5', ...hashes }, 5, hashes), []);
    assert.deepEqual(integrityProblems({ size: '5', crc32c: hashes.crc32c }, 5, hashes), []);
    assert.deepEqual(integrityProblems({ size: '4', md5Hash: 'x' }, 5, hashes), [
      'size 4, not 5',
      'no crc32c to check',
      `md5Hash x, not ${hashes.md5Hash}`,
    ]);
  });

  it('checks the MD5 only when the client computed one', () => {
    const crcOnly = { crc32c: hashes.crc32c };
    assert.deepEqual(integrityProblems({ size: '5', ...hashes }, 5, crcOnly), []);
    assert.deepEqual(integrityProblems({ size: '5', crc32c: 'AAAAAA==' }, 5, crcOnly), [
      `crc32c AAAAAA==, not ${hashes.crc32c}`,
    ]);
  });
});
