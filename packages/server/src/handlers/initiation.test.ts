import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_OBJECT_SIZE } from '@spool/core';
import { HttpError } from '../http/errors.js';
import { parseMetadataJson, parseSizeHeader } from './initiation.js';

/** The value, or undefined when refused with a 4xx (never another kind of error). */
function refusedOr<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    assert.ok(error instanceof HttpError, String(error));
    assert.ok(error.error.status >= 400 && error.error.status < 500, String(error.error.status));
    assert.notEqual(error.error.message, '');
    return undefined;
  }
}

describe('initiation parsers (property-based)', () => {
  it('parseMetadataJson: any bytes, any JSON: metadata or a 4xx that says why', () => {
    const raw = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
      fc
        .dictionary(
          fc.constantFrom('name', 'contentType', 'metadata', 'crc32c', 'md5Hash', 'size'),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .map((v) => Buffer.from(JSON.stringify(v))),
    );
    fc.assert(fc.property(raw, (bytes) => void refusedOr(() => parseMetadataJson(bytes))));
  });

  it('parseMetadataJson keeps a valid name and content type as they are', () => {
    const name = fc.stringMatching(/^[a-zA-Z0-9_/ -]{1,40}$/);
    fc.assert(
      fc.property(name, fc.constantFrom('text/plain', 'application/octet-stream'), (n, type) => {
        const parsed = parseMetadataJson(
          Buffer.from(JSON.stringify({ name: n, contentType: type })),
        );
        assert.equal(parsed.name, n);
        assert.equal(parsed.contentType, type);
      }),
    );
  });

  it('parseSizeHeader: a byte count up to the maximum object size, or a 4xx', () => {
    const value = fc.oneof(
      fc.nat().map(String),
      fc.bigInt({ min: 0n, max: 10n ** 16n }).map(String),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.nat().map((n) => ` ${n} `),
    );
    fc.assert(
      fc.property(value, (v) => {
        const size = refusedOr(() => parseSizeHeader('X-Upload-Content-Length', v));
        const digits = /^\d{1,15}$/.test(v.trim());
        if (digits && Number(v.trim()) <= MAX_OBJECT_SIZE) assert.equal(size, Number(v.trim()));
        else assert.equal(size, undefined);
      }),
    );
    assert.equal(parseSizeHeader('X-Upload-Content-Length', undefined), undefined);
  });
});
