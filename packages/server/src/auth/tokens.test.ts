import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { authenticate, mayUseBucket, parseTokenFile, TokenFileError } from './tokens.js';

const a = 'a'.repeat(24);
const b = 'b'.repeat(24);
const c = 'c'.repeat(24);
const file = `# tokens\n${a}\n${b} photos,videos\n\n${c} * until=2026-01-01T00:00:00Z\n`;
const now = Date.parse('2025-06-01T00:00:00Z');

describe('token file', () => {
  it('reads tokens, bucket lists and expiry', () => {
    const grants = parseTokenFile(file);
    assert.equal(grants.size, 3);
    const granted = (token: string) => {
      const result = authenticate(grants, `Bearer ${token}`, now);
      assert.equal(result.kind, 'granted');
      return result.kind === 'granted' ? result.grant : undefined!;
    };
    assert.equal(granted(a).buckets, 'all');
    assert.ok(mayUseBucket(granted(b), 'photos'));
    assert.ok(!mayUseBucket(granted(b), 'other'));
    assert.ok(mayUseBucket(granted(c), 'anything'));
    assert.match(granted(a).id, /^[0-9a-f]{12}$/);
    assert.ok(!file.includes(granted(a).id), 'the id is not the token');
  });

  it('tells missing, malformed, unknown, tampered and expired tokens apart', () => {
    const grants = parseTokenFile(file);
    assert.equal(authenticate(grants, undefined, now).kind, 'none');
    assert.equal(authenticate(grants, 'Basic dXNlcjpwYXNz', now).kind, 'malformed');
    assert.equal(authenticate(grants, 'Bearer', now).kind, 'malformed');
    assert.equal(authenticate(grants, `Bearer ${a} extra`, now).kind, 'malformed');
    assert.equal(authenticate(grants, `Bearer ${'z'.repeat(24)}`, now).kind, 'unknown');
    assert.equal(authenticate(grants, `Bearer ${a.slice(0, -1)}b`, now).kind, 'unknown');
    assert.equal(authenticate(grants, `Bearer ${a.slice(0, 20)}`, now).kind, 'unknown');
    assert.equal(
      authenticate(grants, `bearer  ${a}`, now).kind,
      'granted',
      'the scheme is case-insensitive',
    );
    assert.equal(
      authenticate(grants, `Bearer ${c}`, Date.parse('2026-01-01T00:00:00Z')).kind,
      'expired',
    );
  });

  it('refuses weak, malformed and duplicated entries, naming the line', () => {
    const cases: [string, RegExp][] = [
      ['short-token', /:1: tokens must have at least 16 characters/],
      [`${a} Bad_Bucket!`, /:1: "Bad_Bucket!" is not a bucket name/],
      [`${a} until=tomorrow`, /:1: "until=tomorrow" is not an ISO 8601 time/],
      [`${a}\n${a}`, /:2: this token is listed twice/],
      [`tok\u00e9n-with-accent-1234`, /:1: a token is letters, digits/],
      ['# only comments\n', /lists no tokens/],
    ];
    for (const [text, message] of cases)
      assert.throws(
        () => parseTokenFile(text),
        (e: Error) => e instanceof TokenFileError && message.test(e.message),
        text,
      );
    assert.throws(
      () => parseTokenFile(`${a} x`),
      (e: Error) => !e.message.includes(a),
      'errors never repeat the token',
    );
  });

  it('never throws anything but a TokenFileError on arbitrary files, or anything on arbitrary headers', () => {
    const grants = parseTokenFile(file);
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (text, header) => {
        try {
          parseTokenFile(text);
        } catch (error) {
          assert.ok(error instanceof TokenFileError, String(error));
        }
        const result = authenticate(grants, header, now);
        assert.ok(['none', 'malformed', 'unknown', 'granted', 'expired'].includes(result.kind));
      }),
      { numRuns: 2000 },
    );
  });
});
