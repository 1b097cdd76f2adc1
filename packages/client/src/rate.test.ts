import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateMeter, secondsLeft } from './rate.js';

describe('RateMeter', () => {
  it('says nothing until half a second has been measured', () => {
    const meter = new RateMeter(1000);
    assert.equal(meter.rate(0), undefined);
    meter.add(0, 0);
    meter.add(400, 400);
    assert.equal(meter.rate(400), undefined);
    meter.add(500, 500);
    assert.equal(meter.rate(500), 1000);
  });

  it('measures over the last window, not since the start', () => {
    const meter = new RateMeter(1000);
    for (let t = 0; t <= 10_000; t += 250) meter.add(t, t < 5000 ? t * 10 : 50_000 + (t - 5000));
    assert.equal(meter.rate(10_000), 1000);
  });

  it('lets silence since the last sample pull the speed down', () => {
    const meter = new RateMeter(1000);
    meter.add(0, 0);
    meter.add(1000, 1000);
    assert.equal(meter.rate(1000), 1000);
    assert.equal(meter.rate(2000), 500);
  });

  it('forgets everything on reset', () => {
    const meter = new RateMeter();
    meter.add(0, 0);
    meter.add(1000, 5000);
    meter.reset();
    assert.equal(meter.rate(1000), undefined);
  });
});

describe('secondsLeft', () => {
  it('divides what remains by the rate, and says nothing without one', () => {
    assert.equal(secondsLeft(1000, 100), 10);
    assert.equal(secondsLeft(0, undefined), 0);
    assert.equal(secondsLeft(1000, undefined), undefined);
    assert.equal(secondsLeft(1000, 0), undefined);
  });
});
