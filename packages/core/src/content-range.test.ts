import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_OBJECT_SIZE } from './constants.js';
import { formatContentRange, parseContentRange, type ContentRange } from './content-range.js';

const UNPARSABLE = 'Failed to parse Content-Range header.';

function parsed(header: string): ContentRange {
  const result = parseContentRange(header);
  assert.ok(result.ok, `${JSON.stringify(header)} should parse`);
  return result.value;
}

function parseError(header: string): { status: number; message: string; format: string } {
  const result = parseContentRange(header);
  assert.ok(!result.ok, `${JSON.stringify(header)} should not parse`);
  return result.error;
}

/** Any Content-Range value a client may legitimately send. */
const validRange: fc.Arbitrary<ContentRange> = fc.oneof(
  fc
    .option(fc.integer({ min: 0, max: MAX_OBJECT_SIZE }), { nil: undefined })
    .map((total): ContentRange => ({ kind: 'query', total })),
  // a-b/N and a-b/*: first <= last, last + 1 <= N
  fc
    .tuple(fc.integer({ min: 0, max: MAX_OBJECT_SIZE - 1 }), fc.nat(), fc.nat(), fc.boolean())
    .map(([first, length, slack, withTotal]): ContentRange => {
      const last = Math.min(first + length, MAX_OBJECT_SIZE - 1);
      const total = withTotal ? Math.min(last + 1 + slack, MAX_OBJECT_SIZE) : undefined;
      return { kind: 'bytes', first, last, total };
    }),
  // a-*/N and a-*/*: first <= N
  fc
    .tuple(fc.integer({ min: 0, max: MAX_OBJECT_SIZE }), fc.nat(), fc.boolean())
    .map(([first, slack, withTotal]): ContentRange => {
      const total = withTotal ? Math.min(first + slack, MAX_OBJECT_SIZE) : undefined;
      return { kind: 'bytes', first, last: undefined, total };
    }),
);

describe('parseContentRange', () => {
  it('parses every form clients send', () => {
    const forms: [string, ContentRange][] = [
      ['bytes 0-262143/1000000', { kind: 'bytes', first: 0, last: 262143, total: 1000000 }],
      ['bytes 262144-524287/*', { kind: 'bytes', first: 262144, last: 524287, total: undefined }],
      ['bytes 0-0/1', { kind: 'bytes', first: 0, last: 0, total: 1 }],
      ['bytes 5-*/100', { kind: 'bytes', first: 5, last: undefined, total: 100 }],
      ['bytes 100-*/100', { kind: 'bytes', first: 100, last: undefined, total: 100 }],
      ['bytes 0-*/*', { kind: 'bytes', first: 0, last: undefined, total: undefined }],
      ['bytes */2000000', { kind: 'query', total: 2000000 }],
      ['bytes */0', { kind: 'query', total: 0 }],
      ['bytes */*', { kind: 'query', total: undefined }],
      ['  bytes */*  ', { kind: 'query', total: undefined }],
    ];
    for (const [header, value] of forms) assert.deepEqual(parsed(header), value, header);
  });

  it('accepts the largest object, 5 TiB, in every position', () => {
    assert.deepEqual(parsed(`bytes */${MAX_OBJECT_SIZE}`), {
      kind: 'query',
      total: MAX_OBJECT_SIZE,
    });
    assert.deepEqual(parsed(`bytes 0-${MAX_OBJECT_SIZE - 1}/${MAX_OBJECT_SIZE}`), {
      kind: 'bytes',
      first: 0,
      last: MAX_OBJECT_SIZE - 1,
      total: MAX_OBJECT_SIZE,
    });
    assert.deepEqual(parsed(`bytes ${MAX_OBJECT_SIZE}-*/*`), {
      kind: 'bytes',
      first: MAX_OBJECT_SIZE,
      last: undefined,
      total: undefined,
    });
  });

  it('refuses malformed values with the GCS message', () => {
    const malformed = [
      '',
      ' ',
      'garbage',
      '0-1/2',
      'bytes',
      'bytes ',
      'bytes=0-1/2',
      'bytes  0-1/2',
      'bytes\t0-1/2',
      'bytes 0 -1/2',
      'bytes 0- 1/2',
      'bytes 0-1 /2',
      'bytes 0-1/ 2',
      'bytes -1-2/3',
      'bytes 0--1/3',
      'bytes 0-1/-3',
      'bytes 1-0/3',
      // The form google-cloud-java once sent for an empty final chunk.
      'bytes 2097152-2097151/2097152',
      // A one-byte range cannot fit in an empty object; `bytes */0` is the way to say "empty".
      'bytes 0-0/0',
      'bytes 0-5/5',
      'bytes 6-*/5',
      'bytes */',
      'bytes 0-1/',
      'bytes 0-/2',
      'bytes -/2',
      'bytes -1/2',
      'bytes 0-1',
      'bytes 0-1/2/3',
      'bytes 0-1/2,3-4/5',
      'bytes 0x10-0x20/*',
      'bytes 1e3-2e3/*',
      'bytes 1.5-2/*',
      'bytes +1-2/3',
      'bytes **/*',
      'bytes */**',
      'bytes *-1/2',
      'bytes 0-1/2 extra',
      'items 0-1/2',
      'bytes \u0660-\u0661/\u0662', // Arabic-Indic digits
      'bytes \uff10-\uff11/\uff12', // full-width digits
      'bytes 0-1/1234567890123456', // 16 digits
      'bytes 1234567890123456-*/*',
      'bytes 0-0000000000000001/2',
    ];
    for (const header of malformed) {
      const error = parseError(header);
      assert.deepEqual(
        { status: error.status, message: error.message, format: error.format },
        { status: 400, message: UNPARSABLE, format: 'text' },
        JSON.stringify(header),
      );
    }
  });

  it('refuses sizes above 5 TiB with a message naming the maximum', () => {
    for (const header of [
      `bytes */${MAX_OBJECT_SIZE + 1}`,
      `bytes 0-1/${MAX_OBJECT_SIZE + 1}`,
      `bytes 0-*/${MAX_OBJECT_SIZE + 1}`,
      `bytes 0-${MAX_OBJECT_SIZE}/*`,
      `bytes ${MAX_OBJECT_SIZE + 1}-*/*`,
      'bytes */999999999999999',
    ]) {
      const error = parseError(header);
      assert.equal(error.status, 400, header);
      assert.notEqual(error.message, UNPARSABLE, header);
      assert.match(error.message, /maximum/, header);
      assert.ok(error.message.includes(String(MAX_OBJECT_SIZE)), header);
    }
  });

  it('never throws, whatever the header', () => {
    const grammar = fc.string({
      unit: fc.constantFrom(...'bytes */-0123456789'.split('')),
      maxLength: 30,
    });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), grammar), (header) => {
        const result = parseContentRange(header);
        if (!result.ok) assert.equal(result.error.status, 400);
        else assert.deepEqual(parsed(formatContentRange(result.value)), result.value);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatContentRange', () => {
  it('writes each form', () => {
    assert.equal(formatContentRange({ kind: 'query', total: undefined }), 'bytes */*');
    assert.equal(formatContentRange({ kind: 'query', total: 7 }), 'bytes */7');
    assert.equal(
      formatContentRange({ kind: 'bytes', first: 0, last: 9, total: 10 }),
      'bytes 0-9/10',
    );
    assert.equal(
      formatContentRange({ kind: 'bytes', first: 0, last: 9, total: undefined }),
      'bytes 0-9/*',
    );
    assert.equal(
      formatContentRange({ kind: 'bytes', first: 3, last: undefined, total: 10 }),
      'bytes 3-*/10',
    );
    assert.equal(
      formatContentRange({ kind: 'bytes', first: 3, last: undefined, total: undefined }),
      'bytes 3-*/*',
    );
  });

  it('round-trips with parseContentRange for every valid value', () => {
    fc.assert(
      fc.property(validRange, (range) => {
        const header = formatContentRange(range);
        assert.deepEqual(parsed(header), range);
        assert.equal(formatContentRange(parsed(header)), header);
      }),
      { numRuns: 1000 },
    );
  });
});
