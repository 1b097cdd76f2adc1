import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CHUNK_GRANULARITY as G } from '@spool/core';
import { InvalidOptionsError } from './errors.js';
import { chunkEnd, planKnownSize, validateChunkSize } from './plan.js';

const MiB = 1024 * 1024;

describe('validateChunkSize', () => {
  it('accepts multiples of 256 KiB and nothing else', () => {
    for (const ok of [undefined, G, 8 * MiB, 100 * G]) validateChunkSize(ok);
    for (const bad of [0, -G, 1000, G + 1, 1.5 * G, Number.NaN, 2 ** 60]) {
      assert.throws(() => validateChunkSize(bad), InvalidOptionsError, String(bad));
    }
  });
});

describe('chunkEnd', () => {
  it('ends the next chunk on a multiple of the chunk size, at least 256 KiB away', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 40), fc.integer({ min: 1, max: 64 }), (offset, units) => {
        const size = units * G;
        const end = chunkEnd(offset, size);
        assert.equal(end % size, 0);
        assert.ok(end - offset >= G);
        assert.ok(end - offset < size + G);
      }),
    );
  });

  it('sends whole chunks from aligned offsets, and re-aligns after an odd one', () => {
    assert.equal(chunkEnd(0, 8 * MiB), 8 * MiB);
    assert.equal(chunkEnd(8 * MiB, 8 * MiB), 16 * MiB);
    assert.equal(chunkEnd(3 * MiB, 8 * MiB), 8 * MiB); // the tail of a partly stored chunk
    assert.equal(chunkEnd(8 * MiB - 100, 8 * MiB), 16 * MiB); // too short a tail: one longer chunk
  });
});

describe('planKnownSize', () => {
  it('streams all but the last partial 256 KiB in one request, then a final one', () => {
    const size = 10 * MiB + 5;
    assert.deepEqual(planKnownSize(0, size, undefined), { start: 0, end: 10 * MiB, final: false });
    assert.deepEqual(planKnownSize(10 * MiB, size, undefined), {
      start: 10 * MiB,
      end: size,
      final: true,
    });
    // An exact multiple keeps 256 KiB for the final request, which carries X-Goog-Hash.
    assert.deepEqual(planKnownSize(0, 4 * MiB, undefined), {
      start: 0,
      end: 4 * MiB - G,
      final: false,
    });
  });

  it('sends a small object, an empty one, or a finished one in a single final request', () => {
    assert.deepEqual(planKnownSize(0, 1000, undefined), { start: 0, end: 1000, final: true });
    assert.deepEqual(planKnownSize(0, 0, undefined), { start: 0, end: 0, final: true });
    assert.deepEqual(planKnownSize(5 * G, 5 * G, 2 * G), { start: 5 * G, end: 5 * G, final: true });
  });

  it('whatever the server keeps, requests tile the object and respect the 256 KiB rule', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 * G }),
        fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }),
        (size, units, keep) => {
          const chunkSize = units === undefined ? undefined : units * G;
          let offset = 0;
          for (let round = 0; round < 1000; round++) {
            const plan = planKnownSize(offset, size, chunkSize);
            assert.equal(plan.start, offset);
            assert.ok(plan.end <= size);
            if (plan.final) {
              assert.equal(plan.end, size);
              return;
            }
            assert.ok(plan.end - plan.start >= G, 'a non-final request is at least 256 KiB');
            assert.equal(plan.end % G, 0, 'a non-final request ends on a 256 KiB boundary');
            // The server keeps any prefix of the request (most of the time, all of it).
            const fraction = keep[round] ?? 1;
            offset = plan.start + Math.floor((plan.end - plan.start) * Math.min(1, fraction * 2));
          }
          assert.fail('no final request after 1000 rounds');
        },
      ),
    );
  });
});
