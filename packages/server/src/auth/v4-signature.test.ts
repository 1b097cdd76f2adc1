import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { signUrl, verifySignedUrl, type VerificationKeys } from './v4-signature.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keys: VerificationKeys = {
  rsa: new Map([['signer@example.iam.gserviceaccount.com', publicKey]]),
  hmac: new Map([['GOOG1EKEY', 'secret']]),
};
const now = Date.parse('2026-03-01T12:00:00Z');
const signed = new URL(
  signUrl(
    {
      kind: 'rsa',
      email: 'signer@example.iam.gserviceaccount.com',
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
    { method: 'GET', url: 'http://127.0.0.1:4080/bucket/object', expiresInSeconds: 300, now },
  ),
);
const base = {
  method: 'GET',
  path: signed.pathname,
  headers: { host: signed.host },
  hosts: [signed.host],
  now,
};

describe('verifySignedUrl on hostile input', () => {
  it('never throws, and refuses with a 4xx, on arbitrary query strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (rawQuery) => {
        const problem = verifySignedUrl({ ...base, rawQuery }, keys);
        assert.ok(problem, 'random text never verifies');
        assert.ok(problem.status === 400 || problem.status === 403);
        assert.ok(problem.message.length > 10);
      }),
      { numRuns: 3000 },
    );
  });

  it('never verifies a real signed URL after any single change to its query', () => {
    const raw = signed.search.slice(1);
    assert.equal(verifySignedUrl({ ...base, rawQuery: raw }, keys), undefined);
    fc.assert(
      fc.property(
        fc.nat({ max: raw.length - 1 }),
        fc.string({ minLength: 1, maxLength: 3 }),
        (at, insert) => {
          const changed = raw.slice(0, at) + insert + raw.slice(at + 1);
          const signatureAt = raw.indexOf('X-Goog-Signature=') + 'X-Goog-Signature='.length;
          // Hex is case-insensitive: upper-casing a digit of the signature leaves the same signature.
          fc.pre(
            changed !== raw && !(at >= signatureAt && changed.toLowerCase() === raw.toLowerCase()),
          );
          const problem = verifySignedUrl({ ...base, rawQuery: changed }, keys);
          assert.ok(problem && problem.status >= 400 && problem.status < 500);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary header values, methods and paths', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.dictionary(fc.string({ maxLength: 20 }), fc.string()),
        (method, path, headers) => {
          const problem = verifySignedUrl(
            {
              ...base,
              method,
              path,
              headers: { ...headers, host: signed.host },
              rawQuery: signed.search.slice(1),
            },
            keys,
          );
          if (problem) assert.ok(problem.status === 400 || problem.status === 403);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
