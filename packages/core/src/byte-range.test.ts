import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { selectByteRange, type ByteRangeSelection } from './byte-range.js';

const WHOLE: ByteRangeSelection = { kind: 'whole' };
const UNSATISFIABLE: ByteRangeSelection = { kind: 'unsatisfiable' };
const partial = (start: number, end: number): ByteRangeSelection => ({
  kind: 'partial',
  start,
  end,
});

describe('selectByteRange', () => {
  it('selects what each single-range form asks for', () => {
    const cases: [string | undefined, number, ByteRangeSelection][] = [
      [undefined, 1000, WHOLE],
      ['bytes=0-99', 1000, partial(0, 99)],
      ['bytes=999-999', 1000, partial(999, 999)],
      ['bytes=100-', 1000, partial(100, 999)],
      ['bytes=0-', 1000, partial(0, 999)],
      ['bytes=-100', 1000, partial(900, 999)],
      ['bytes=-1', 1000, partial(999, 999)],
      [' bytes=0-9 ', 1000, partial(0, 9)],
    ];
    for (const [header, size, selection] of cases)
      assert.deepEqual(selectByteRange(header, size), selection, header);
  });

  it('clamps ranges that run past the end of the object', () => {
    assert.deepEqual(selectByteRange('bytes=500-5000', 1000), partial(500, 999));
    assert.deepEqual(selectByteRange('bytes=-5000', 1000), partial(0, 999));
    assert.deepEqual(selectByteRange('bytes=0-999999999999999', 10), partial(0, 9));
  });

  it('reports ranges that select nothing as unsatisfiable', () => {
    assert.deepEqual(selectByteRange('bytes=1000-', 1000), UNSATISFIABLE);
    assert.deepEqual(selectByteRange('bytes=1000-2000', 1000), UNSATISFIABLE);
    assert.deepEqual(selectByteRange('bytes=-0', 1000), UNSATISFIABLE);
    assert.deepEqual(selectByteRange('bytes=0-', 0), UNSATISFIABLE);
    assert.deepEqual(selectByteRange('bytes=0-0', 0), UNSATISFIABLE);
  });

  it('serves a suffix range of an empty object as the (empty) whole', () => {
    assert.deepEqual(selectByteRange('bytes=-5', 0), WHOLE);
  });

  it('ignores headers that are not one valid byte range', () => {
    for (const header of [
      'bytes=0-1,5-6',
      'bytes=5-3',
      'bytes=',
      'bytes=-',
      'bytes=a-b',
      'bytes = 0-1',
      'bytes 0-1',
      'items=0-1',
      'bytes=0-1234567890123456',
      'bytes=\uff10-\uff11',
      'garbage',
      '',
    ]) {
      assert.deepEqual(selectByteRange(header, 1000), WHOLE, JSON.stringify(header));
    }
  });

  it('only ever selects bytes inside the object', () => {
    const number = fc.oneof(fc.constant(''), fc.nat({ max: 3000 }).map(String));
    const header = fc.oneof(
      fc.tuple(number, number).map(([a, b]) => `bytes=${a}-${b}`),
      fc.string(),
    );
    fc.assert(
      fc.property(header, fc.nat({ max: 2000 }), (h, size) => {
        const selection = selectByteRange(h, size);
        if (selection.kind === 'partial') {
          assert.ok(
            0 <= selection.start && selection.start <= selection.end && selection.end < size,
            h,
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('selects exactly [a, min(b, size - 1)] for any valid bytes=a-b', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 5000 }),
        fc.nat({ max: 5000 }),
        fc.nat({ max: 5000 }),
        (a, length, size) => {
          const b = a + length;
          const expected = a < size ? partial(a, Math.min(b, size - 1)) : UNSATISFIABLE;
          assert.deepEqual(selectByteRange(`bytes=${a}-${b}`, size), expected);
        },
      ),
    );
  });
});
