import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Registry } from './prometheus.js';
import { RateLimiter } from './rate-limiter.js';

describe('Prometheus registry', () => {
  it('renders counters, gauges and histograms in the text format, escaping labels', async () => {
    const registry = new Registry();
    const requests = registry.counter('spool_test_total', 'Requests.');
    requests.inc({ status: '200' });
    requests.inc({ status: '200' }, 2);
    requests.inc({ reason: 'a "quoted"\nvalue\\' });
    registry.gauge('spool_test_open', 'Open.', () => 7);
    const latency = registry.histogram('spool_test_seconds', 'Latency.', [0.1, 1]);
    latency.observe(0.05, { route: 'upload' });
    latency.observe(0.5, { route: 'upload' });
    latency.observe(5, { route: 'upload' });
    const text = await registry.render();
    assert.match(text, /# TYPE spool_test_total counter\nspool_test_total\{status="200"\} 3\n/);
    assert.match(text, /spool_test_total\{reason="a \\"quoted\\"\\nvalue\\\\"\} 1/);
    assert.match(text, /# TYPE spool_test_open gauge\nspool_test_open 7/);
    assert.match(
      text,
      /spool_test_seconds_bucket\{route="upload",le="0.1"\} 1\nspool_test_seconds_bucket\{route="upload",le="1"\} 2\nspool_test_seconds_bucket\{route="upload",le="\+Inf"\} 3\nspool_test_seconds_sum\{route="upload"\} 5.55\nspool_test_seconds_count\{route="upload"\} 3/,
    );
    assert.equal(requests.get({ status: '200' }), 3);
  });
});

describe('RateLimiter', () => {
  it('allows the burst, then one request per 1/rate seconds, and says when to retry', () => {
    const limiter = new RateLimiter(2, 4);
    const t0 = 1_000_000;
    for (let i = 0; i < 4; i++) assert.equal(limiter.take('k', t0).ok, true);
    const refused = limiter.take('k', t0);
    assert.deepEqual(refused, { ok: false, retryAfterSeconds: 1 });
    assert.equal(limiter.take('other', t0).ok, true, 'keys are independent');
    assert.equal(limiter.take('k', t0 + 500).ok, true, 'half a second later one token is back');
    assert.equal(limiter.take('k', t0 + 500).ok, false);
  });

  it('never admits more than burst + rate × time (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 300 }),
        (rate, burst, gaps) => {
          const limiter = new RateLimiter(rate, burst);
          let now = 0;
          let admitted = 0;
          for (const gap of gaps) {
            now += gap;
            if (limiter.take('k', now).ok) admitted++;
          }
          assert.ok(admitted <= burst + Math.floor((now / 1000) * rate) + 1);
        },
      ),
    );
  });

  it('forgets the least recently used keys beyond its bound', () => {
    const limiter = new RateLimiter(1, 1, 2);
    limiter.take('a', 0);
    limiter.take('b', 0);
    limiter.take('c', 0);
    assert.equal(limiter.take('a', 0).ok, true, 'a was forgotten, so it starts with a full bucket');
  });
});
