import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc32cMismatch, md5Mismatch, offsetBeyondPersisted } from '@spool/core';
import { InvalidOptionsError } from './errors.js';
import {
  RetryBudget,
  backoffDelay,
  hashMismatch,
  isRetryableNetworkError,
  isRetryableStatus,
  offsetExceedsUploaded,
  parseRetryAfter,
  retryPolicy,
} from './retry.js';

describe('retry policy', () => {
  it('retries 408, 429 and 5xx, nothing else', () => {
    const retryable = [];
    for (let s = 100; s < 600; s++) if (isRetryableStatus(s)) retryable.push(s);
    assert.deepEqual(retryable, [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)]);
  });

  it('recognises GCS\'s "exceeds already uploaded size" 503, word for word', () => {
    const error = offsetBeyondPersisted(524288, 262144);
    assert.deepEqual(offsetExceedsUploaded(error.status, error.message), {
      offset: 524288,
      persisted: 262144,
    });
    assert.equal(offsetExceedsUploaded(503, 'Service Unavailable'), undefined);
    assert.equal(offsetExceedsUploaded(400, error.message), undefined);
  });

  it("recognises GCS's hash mismatch 400s, for any hashes, and nothing else", () => {
    const hash = fc.string({ maxLength: 30 }).filter((h) => !h.includes('"'));
    fc.assert(
      fc.property(hash, hash, fc.boolean(), (provided, calculated, crc) => {
        const error = (crc ? crc32cMismatch : md5Mismatch)(provided, calculated);
        assert.equal(hashMismatch(error.status, error.message), true);
        assert.equal(hashMismatch(503, error.message), false);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        if (!text.includes("doesn't match calculated"))
          assert.equal(hashMismatch(400, text), false);
      }),
    );
    const offset = offsetBeyondPersisted(1, 0);
    assert.equal(hashMismatch(offset.status, offset.message), false);
  });

  it('backs off exponentially up to the cap, with at most a second of jitter', () => {
    const policy = retryPolicy({ initialDelay: 1000, maxDelay: 32_000, multiplier: 2 });
    assert.equal(
      backoffDelay(1, policy, () => 0),
      1000,
    );
    assert.equal(
      backoffDelay(3, policy, () => 0),
      4000,
    );
    assert.equal(
      backoffDelay(10, policy, () => 0),
      32_000,
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (n, r) => {
          const delay = backoffDelay(n, policy, () => r);
          const step = Math.min(1000 * 2 ** (n - 1), 32_000);
          assert.ok(delay >= step && delay <= step + 1000);
        },
      ),
    );
    // Short steps (tests use them) get proportionally short jitter.
    const fast = retryPolicy({ initialDelay: 10 });
    assert.ok(backoffDelay(1, fast, () => 0.999) <= 20);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Tue, 24 Nov 2026 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Tue, 24 Nov 2026 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });

  it('retries resets and unknown failures, refused connections only once the server answered', () => {
    assert.ok(isRetryableNetworkError('ECONNRESET', false));
    assert.ok(isRetryableNetworkError('EPIPE', false));
    assert.ok(isRetryableNetworkError(undefined, false));
    assert.ok(!isRetryableNetworkError('ECONNREFUSED', false));
    assert.ok(isRetryableNetworkError('ECONNREFUSED', true));
    assert.ok(!isRetryableNetworkError('ENOTFOUND', false));
    assert.ok(!isRetryableNetworkError('DEPTH_ZERO_SELF_SIGNED_CERT', true));
  });

  it('refuses nonsense options before anything is sent', () => {
    assert.throws(() => retryPolicy({ retries: -1 }), InvalidOptionsError);
    assert.throws(() => retryPolicy({ initialDelay: Number.NaN }), InvalidOptionsError);
    assert.throws(() => retryPolicy({ deadline: 0 }), InvalidOptionsError);
  });
});

describe('RetryBudget', () => {
  it('counts failures in a row without progress, and starts again on progress', () => {
    const budget = new RetryBudget(retryPolicy({ retries: 3, initialDelay: 1 }), () => 0);
    // Any number of failures is fine as long as progress comes between them.
    for (let i = 0; i < 100; i++) {
      assert.notEqual(budget.failure(), undefined);
      assert.notEqual(budget.failure(), undefined);
      budget.progress();
    }
    assert.equal(budget.failed, 200);
    assert.notEqual(budget.failure(), undefined);
    assert.notEqual(budget.failure(), undefined);
    assert.notEqual(budget.failure(), undefined);
    assert.equal(budget.failure(), undefined, 'the fourth failure in a row ends it');
  });

  it('waits at least what Retry-After asks', () => {
    const budget = new RetryBudget(retryPolicy({ initialDelay: 10 }), () => 0);
    assert.equal(budget.failure(5000), 5000);
    assert.equal(budget.failure(1), 20);
  });

  it('failures while offline spend no budget, and their waits grow to the longest', () => {
    const budget = new RetryBudget(
      retryPolicy({ retries: 1, initialDelay: 10, maxDelay: 80 }),
      () => 0,
    );
    const waits = Array.from({ length: 6 }, () => budget.offlineFailure());
    assert.deepEqual(waits, [10, 20, 40, 80, 80, 80]);
    assert.equal(budget.failed, 6);
    assert.equal(budget.failure(), 80, 'one failure online is still allowed');
    assert.equal(budget.failure(), undefined);
    budget.progress();
    assert.equal(budget.offlineFailure(), 10, 'progress starts the waits again');
  });

  it('with retries off, the first failure ends it', () => {
    const budget = new RetryBudget(retryPolicy({ retries: 0 }));
    assert.equal(budget.failure(), undefined);
  });
});
