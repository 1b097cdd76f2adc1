import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CHUNK_GRANULARITY, MAX_OBJECT_SIZE, alignDown } from './constants.js';

describe('constants', () => {
  it('match the GCS limits', () => {
    assert.equal(CHUNK_GRANULARITY, 262144);
    assert.equal(MAX_OBJECT_SIZE, 5497558138880);
  });
});

describe('alignDown', () => {
  it('rounds down to a multiple of 256 KiB', () => {
    assert.equal(alignDown(0), 0);
    assert.equal(alignDown(262143), 0);
    assert.equal(alignDown(262144), 262144);
    assert.equal(alignDown(2500000), 2359296); // the Drive log in research/gcs-protocol.md 2.2
  });

  it('gives the largest multiple of 256 KiB not above the offset', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_OBJECT_SIZE }), (offset) => {
        const aligned = alignDown(offset);
        assert.equal(aligned % CHUNK_GRANULARITY, 0);
        assert.ok(aligned <= offset && offset - aligned < CHUNK_GRANULARITY);
      }),
    );
  });
});
