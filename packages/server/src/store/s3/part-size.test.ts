import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CHUNK_GRANULARITY, MAX_OBJECT_SIZE } from '@spool/core';
import {
  BASE_PART_SIZE,
  MAX_PARTS,
  MAX_PART_SIZE,
  MIN_PART_SIZE,
  partSize,
  ROUNDING,
} from './part-size.js';

const MiB = 1024 * 1024;

/**
 * The parts of an object of `size` bytes whose size becomes known when part `knownFrom` starts
 * (1: from the beginning; Infinity: never).
 */
function partsOf(size: number, knownFrom: number): number[] {
  const parts: number[] = [];
  let start = 0;
  while (start < size) {
    const n = parts.length + 1;
    const part = Math.min(partSize(n, start, n >= knownFrom ? size : undefined), size - start);
    parts.push(part);
    start += part;
  }
  return parts;
}

function assertValidParts(parts: number[], context: string): void {
  assert.ok(parts.length <= MAX_PARTS, `${parts.length} parts: ${context}`);
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    assert.ok(part <= MAX_PART_SIZE, `part ${i + 1} has ${part} bytes: ${context}`);
    if (!last) {
      assert.ok(part >= MIN_PART_SIZE, `part ${i + 1} has ${part} bytes: ${context}`);
      assert.equal(part % CHUNK_GRANULARITY, 0, `part ${i + 1} ends off a chunk: ${context}`);
    }
  });
}

describe('partSize', () => {
  it('grows from 8 MiB, doubling every 1000 parts, when the size is unknown', () => {
    assert.equal(partSize(1, 0, undefined), 8 * MiB);
    assert.equal(partSize(1000, 0, undefined), 8 * MiB);
    assert.equal(partSize(1001, 0, undefined), 16 * MiB);
    assert.equal(partSize(MAX_PARTS, 0, undefined), 4096 * MiB);
  });

  it('fits 5 TiB in 10,000 parts without knowing the size', () => {
    let total = 0;
    for (let n = 1; n <= MAX_PARTS; n++) total += partSize(n, total, undefined);
    assert.ok(total >= MAX_OBJECT_SIZE, `only ${total} bytes`);
  });

  it('spreads a known size over the parts left, in whole MiB', () => {
    assert.equal(partSize(1, 0, 1024 ** 3), BASE_PART_SIZE);
    assert.equal(partSize(1, 0, MAX_OBJECT_SIZE), 525 * MiB);
    assert.equal(partSize(9001, 9000 * 525 * MiB, MAX_OBJECT_SIZE), 518 * MiB);
    assert.equal(partSize(MAX_PARTS, MAX_OBJECT_SIZE - 600 * MiB, MAX_OBJECT_SIZE), 600 * MiB);
    assert.equal(partSize(5, 4 * MiB, 10 * MiB), BASE_PART_SIZE);
    // Known late, after 3000 parts of the growing schedule (56,000 MiB): the rest over 7000 parts.
    assert.equal(partSize(3001, 56000 * MiB, MAX_OBJECT_SIZE), 741 * MiB);
  });

  it('refuses part numbers S3 does not have', () => {
    assert.throws(() => partSize(0, 0, undefined), RangeError);
    assert.throws(() => partSize(MAX_PARTS + 1, 0, undefined), RangeError);
  });

  it('keeps every object up to 5 TiB within S3 limits, whenever its size becomes known', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_OBJECT_SIZE }),
        fc.oneof(fc.constant(1), fc.constant(Infinity), fc.integer({ min: 1, max: MAX_PARTS })),
        (size, knownFrom) => {
          assertValidParts(partsOf(size, knownFrom), `size ${size}, known from ${knownFrom}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rounds to a whole number of chunks', () => {
    assert.equal(ROUNDING % CHUNK_GRANULARITY, 0);
    assert.equal(BASE_PART_SIZE % CHUNK_GRANULARITY, 0);
    assert.equal(MAX_PART_SIZE % CHUNK_GRANULARITY, 0);
  });
});
