import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CHUNK_GRANULARITY as K, MAX_OBJECT_SIZE as MAX } from './constants.js';
import {
  decideChunk,
  incompleteResponse,
  settleWrite,
  type ChunkDecision,
  type SessionView,
  type Settlement,
  type WritePlan,
} from './decision.js';
import {
  bodyLengthMismatch,
  queryWithBody,
  sessionCancelled,
  sessionNotFound,
  sizeMismatchDeclared,
  tooLarge,
  totalBelowPersisted,
  totalChanged,
} from './messages.js';
import { parsePersistedRange } from './persisted-range.js';
import { protocolError, type ProtocolError } from './protocol-error.js';

const NOW = 1_700_000_000_000;

function session(fields: Partial<SessionView> = {}): SessionView {
  return {
    status: 'active',
    persisted: 0,
    total: undefined,
    declaredSize: undefined,
    expiresAt: NOW + 1,
    ...fields,
  };
}

function decide(
  fields: Partial<SessionView>,
  contentRange: string | undefined,
  contentLength?: number,
): ChunkDecision {
  return decideChunk(session(fields), { contentRange, contentLength }, NOW);
}

const write = (plan: WritePlan): ChunkDecision => ({ kind: 'write', plan });
const rejected = (error: ProtocolError, failSession = false): ChunkDecision => ({
  kind: 'reject',
  error,
  failSession,
});

// The texts real GCS sends, spelled out here so that a change to messages.ts cannot go unnoticed.
const UNPARSABLE = protocolError(400, 'invalid', 'Failed to parse Content-Range header.', 'text');
const gap = (offset: number, persisted: number): ProtocolError =>
  protocolError(
    503,
    'backendError',
    `Invalid request.  According to the Content-Range header, the upload offset is ${offset} byte(s), which exceeds already uploaded size of ${persisted} byte(s).`,
    'text',
  );
const tooSmall = (received: number): ProtocolError =>
  protocolError(
    400,
    'invalid',
    `Invalid request.  The number of bytes uploaded is required to be equal or greater than 262144, except for the final request (it's recommended to be the exact multiple of 262144).  The received request contained ${received} bytes, which does not meet this requirement.`,
    'text',
  );

/** [row, session fields, Content-Range, Content-Length, expected decision] */
type Row = [string, Partial<SessionView>, string | undefined, number | undefined, ChunkDecision];

const rows: Row[] = [
  // The session itself.
  ['expired', { expiresAt: NOW }, 'bytes */*', 0, rejected(sessionNotFound())],
  [
    'expired, even when final',
    { status: 'final', expiresAt: NOW - 1 },
    'bytes */*',
    0,
    rejected(sessionNotFound()),
  ],
  [
    'final: replay the object',
    { status: 'final', persisted: 10 },
    'bytes 0-9/10',
    10,
    { kind: 'replay' },
  ],
  ['final: replay whatever the headers', { status: 'final' }, 'nonsense', 3, { kind: 'replay' }],
  [
    'failed: replay the error',
    { status: 'failed', persisted: K },
    `bytes ${K}-${2 * K - 1}/*`,
    K,
    { kind: 'replay' },
  ],
  ['cancelled', { status: 'cancelled' }, 'bytes */*', 0, rejected(sessionCancelled())],

  // No Content-Range: the body is the whole object.
  [
    'whole object',
    {},
    undefined,
    10,
    write({ start: 0, skip: 0, limit: 10, exact: true, completesAt: 10, total: 10 }),
  ],
  [
    'whole empty object',
    {},
    undefined,
    0,
    write({ start: 0, skip: 0, limit: 0, exact: true, completesAt: 0, total: 0 }),
  ],
  [
    'whole object, chunked body',
    {},
    undefined,
    undefined,
    write({
      start: 0,
      skip: 0,
      limit: MAX,
      exact: false,
      completesAt: 'end-of-body',
      total: undefined,
    }),
  ],
  [
    'whole object, chunked, declared size',
    { declaredSize: 5 * K },
    undefined,
    undefined,
    write({ start: 0, skip: 0, limit: 5 * K, exact: false, completesAt: 5 * K, total: undefined }),
  ],
  [
    'whole object resent after part was stored',
    { persisted: K },
    undefined,
    3 * K,
    write({ start: 0, skip: K, limit: 3 * K, exact: true, completesAt: 3 * K, total: 3 * K }),
  ],
  [
    'whole object smaller than what is stored',
    { persisted: 2 * K },
    undefined,
    10,
    rejected(totalBelowPersisted(10, 2 * K)),
  ],
  [
    'whole object of another size than declared',
    { declaredSize: 100 },
    undefined,
    10,
    rejected(sizeMismatchDeclared(10, 100)),
  ],
  ['whole object above 5 TiB', {}, undefined, MAX + 1, rejected(tooLarge(MAX + 1))],

  // Malformed Content-Range.
  ['malformed: bytes=', {}, 'bytes=0-1/2', 2, rejected(UNPARSABLE)],
  ['malformed: empty', {}, '', 0, rejected(UNPARSABLE)],
  [
    'malformed: last < first',
    { persisted: 2 * K },
    `bytes ${2 * K}-${2 * K - 1}/${2 * K}`,
    0,
    rejected(UNPARSABLE),
  ],
  ['total above 5 TiB', {}, `bytes 0-1/${MAX + 1}`, 2, rejected(tooLarge(MAX + 1))],

  // Status queries and finalization.
  ['query */*, nothing stored', {}, 'bytes */*', 0, { kind: 'status' }],
  ['query */*, no Content-Length', { persisted: K }, 'bytes */*', undefined, { kind: 'status' }],
  ['*/T with T == P finalizes', { persisted: K }, `bytes */${K}`, 0, { kind: 'finalize', size: K }],
  ['*/0 finalizes an empty object', {}, 'bytes */0', 0, { kind: 'finalize', size: 0 }],
  [
    '*/T with T == P == the announced total',
    { persisted: K, total: K },
    `bytes */${K}`,
    0,
    { kind: 'finalize', size: K },
  ],
  [
    '*/T with T == P == the declared size',
    { persisted: K, declaredSize: K },
    `bytes */${K}`,
    0,
    { kind: 'finalize', size: K },
  ],
  ['*/T with T > P', { persisted: K }, `bytes */${2 * K}`, 0, { kind: 'status' }],
  ['*/T with T < P', { persisted: K }, 'bytes */0', 0, { kind: 'status' }],
  [
    '*/T with T == P != declared size',
    { persisted: K, declaredSize: 2 * K },
    `bytes */${K}`,
    0,
    rejected(sizeMismatchDeclared(K, 2 * K)),
  ],
  [
    '*/T with T == P != announced total',
    { persisted: K, total: 2 * K },
    `bytes */${K}`,
    0,
    rejected(totalChanged(K, 2 * K)),
  ],
  ['query */* with a body', {}, 'bytes */*', 5, rejected(queryWithBody())],
  ['*/T with T == P and a body', { persisted: K }, `bytes */${K}`, 1, rejected(queryWithBody())],

  // A gap: the chunk starts beyond what is stored.
  [
    'gap after one chunk',
    { persisted: K },
    `bytes ${2 * K}-${3 * K - 1}/*`,
    K,
    rejected(gap(2 * K, K)),
  ],
  ['gap at the start', {}, 'bytes 4-9/10', 6, rejected(gap(4, 0))],
  ['gap, a-*', { persisted: K }, `bytes ${K + 1}-*/*`, undefined, rejected(gap(K + 1, K))],
  [
    'gap is reported before a total problem',
    { persisted: K, total: 3 * K },
    `bytes ${2 * K}-${3 * K - 1}/${4 * K}`,
    K,
    rejected(gap(2 * K, K)),
  ],

  // Overlap: bytes already stored are skipped.
  [
    'resend overlapping what is stored',
    { persisted: K },
    `bytes 0-${2 * K - 1}/*`,
    2 * K,
    write({
      start: 0,
      skip: K,
      limit: 2 * K,
      exact: true,
      completesAt: undefined,
      total: undefined,
    }),
  ],
  [
    'resend of a chunk entirely stored',
    { persisted: 2 * K },
    `bytes 0-${K - 1}/*`,
    K,
    write({
      start: 0,
      skip: 2 * K,
      limit: K,
      exact: true,
      completesAt: undefined,
      total: undefined,
    }),
  ],
  [
    'resend from an odd offset',
    { persisted: K },
    `bytes 100-${K + 99}/*`,
    K,
    write({
      start: 100,
      skip: K - 100,
      limit: K + 100,
      exact: true,
      completesAt: undefined,
      total: undefined,
    }),
  ],

  // The total size.
  [
    'total changed',
    { total: 3 * K },
    `bytes 0-${K - 1}/${4 * K}`,
    K,
    rejected(totalChanged(4 * K, 3 * K)),
  ],
  [
    'total same as before',
    { persisted: K, total: 3 * K },
    `bytes ${K}-${2 * K - 1}/${3 * K}`,
    K,
    write({ start: K, skip: 0, limit: 2 * K, exact: true, completesAt: undefined, total: 3 * K }),
  ],
  [
    'total differs from the declared size',
    { declaredSize: 3 * K },
    `bytes 0-${K - 1}/${4 * K}`,
    K,
    rejected(sizeMismatchDeclared(4 * K, 3 * K)),
  ],
  [
    'total below what is stored',
    { persisted: 2 * K },
    'bytes 0-999/1000',
    1000,
    rejected(totalBelowPersisted(1000, 2 * K)),
  ],
  [
    'a-b/* ending past the declared size',
    { declaredSize: 1000 },
    'bytes 0-1999/*',
    2000,
    rejected(sizeMismatchDeclared(2000, 1000)),
  ],
  [
    'a-b/* ending past the announced total',
    { total: 3 * K },
    `bytes 0-${4 * K - 1}/*`,
    4 * K,
    rejected(totalChanged(4 * K, 3 * K)),
  ],

  // The 256 KiB rule for non-final chunks.
  ['non-final chunk of 1 KiB', {}, 'bytes 0-1023/*', 1024, rejected(tooSmall(1024), true)],
  [
    'non-final chunk with a larger total',
    {},
    'bytes 0-499/700000',
    500,
    rejected(tooSmall(500), true),
  ],
  [
    'non-final chunk one byte short',
    {},
    `bytes 0-${K - 2}/*`,
    K - 1,
    rejected(tooSmall(K - 1), true),
  ],
  [
    'non-final chunk short of the declared size',
    { declaredSize: 5 * K },
    'bytes 0-1023/*',
    1024,
    rejected(tooSmall(1024), true),
  ],
  [
    'non-final chunk of exactly 256 KiB',
    {},
    `bytes 0-${K - 1}/*`,
    K,
    write({ start: 0, skip: 0, limit: K, exact: true, completesAt: undefined, total: undefined }),
  ],
  [
    'non-final chunk, unaligned but large enough',
    {},
    `bytes 0-${K}/*`,
    K + 1,
    write({
      start: 0,
      skip: 0,
      limit: K + 1,
      exact: true,
      completesAt: undefined,
      total: undefined,
    }),
  ],

  // Final chunks may have any size.
  [
    'final chunk of 10 bytes',
    {},
    'bytes 0-9/10',
    10,
    write({ start: 0, skip: 0, limit: 10, exact: true, completesAt: 10, total: 10 }),
  ],
  [
    'final chunk of one byte',
    { persisted: K },
    `bytes ${K}-${K}/${K + 1}`,
    1,
    write({ start: K, skip: 0, limit: K + 1, exact: true, completesAt: K + 1, total: K + 1 }),
  ],
  [
    'final chunk with /* after the total was announced',
    { persisted: K, total: K + 1 },
    `bytes ${K}-${K}/*`,
    1,
    write({ start: K, skip: 0, limit: K + 1, exact: true, completesAt: K + 1, total: undefined }),
  ],
  [
    'final chunk with /* reaching the declared size',
    { persisted: K, declaredSize: K + 5 },
    `bytes ${K}-${K + 4}/*`,
    5,
    write({ start: K, skip: 0, limit: K + 5, exact: true, completesAt: K + 5, total: undefined }),
  ],

  // Content-Length against the range.
  [
    'Content-Length short of the range',
    {},
    `bytes 0-${K - 1}/*`,
    100,
    rejected(bodyLengthMismatch(100, K)),
  ],
  ['Content-Length beyond the range', {}, 'bytes 0-9/10', 11, rejected(bodyLengthMismatch(11, 10))],
  ['Content-Length short of a-*/N', {}, 'bytes 0-*/10', 5, rejected(bodyLengthMismatch(5, 10))],

  // a-*/N and a-*/*: the body is the rest of the object.
  [
    'a-*/N',
    {},
    'bytes 0-*/1000',
    1000,
    write({ start: 0, skip: 0, limit: 1000, exact: true, completesAt: 1000, total: 1000 }),
  ],
  [
    'a-*/N overlapping, no Content-Length',
    { persisted: K },
    `bytes 0-*/${3 * K}`,
    undefined,
    write({ start: 0, skip: K, limit: 3 * K, exact: true, completesAt: 3 * K, total: 3 * K }),
  ],
  [
    'a-*/N with nothing left',
    { persisted: K },
    `bytes ${K}-*/${K}`,
    0,
    write({ start: K, skip: 0, limit: K, exact: true, completesAt: K, total: K }),
  ],
  [
    'a-*/*, size unknown',
    {},
    'bytes 0-*/*',
    1000,
    write({
      start: 0,
      skip: 0,
      limit: MAX,
      exact: false,
      completesAt: 'end-of-body',
      total: undefined,
    }),
  ],
  [
    'a-*/* with a declared size',
    { declaredSize: 1000 },
    'bytes 0-*/*',
    undefined,
    write({ start: 0, skip: 0, limit: 1000, exact: false, completesAt: 1000, total: undefined }),
  ],
  [
    'a-*/* after a total was announced',
    { persisted: K, total: 3 * K },
    'bytes 0-*/*',
    undefined,
    write({ start: 0, skip: K, limit: 3 * K, exact: false, completesAt: 3 * K, total: undefined }),
  ],
  [
    'a-*/* with a body past the declared size',
    { declaredSize: 1000 },
    'bytes 0-*/*',
    2000,
    rejected(sizeMismatchDeclared(2000, 1000)),
  ],
  [
    'a-*/* with a body past the announced total',
    { total: 3 * K },
    'bytes 0-*/*',
    4 * K,
    rejected(totalChanged(4 * K, 3 * K)),
  ],
  [
    'a-*/* of exactly 5 TiB',
    {},
    'bytes 0-*/*',
    MAX,
    write({
      start: 0,
      skip: 0,
      limit: MAX,
      exact: false,
      completesAt: 'end-of-body',
      total: undefined,
    }),
  ],
  ['a-*/* above 5 TiB', {}, 'bytes 0-*/*', MAX + 1, rejected(tooLarge(MAX + 1))],
];

describe('decideChunk', () => {
  for (const [name, fields, contentRange, contentLength, expected] of rows) {
    it(name, () => {
      assert.deepEqual(decide(fields, contentRange, contentLength), expected);
    });
  }

  it('never throws, and every write starts at or before the stored size', () => {
    const header = fc.oneof(
      fc.constant(undefined),
      fc.string({ unit: fc.constantFrom(...'bytes */-0123456789'.split('')), maxLength: 24 }),
      fc
        .tuple(
          fc.nat({ max: 4 * K }),
          fc.option(fc.nat({ max: 4 * K })),
          fc.option(fc.nat({ max: 8 * K })),
        )
        .map(
          ([first, length, total]) =>
            `bytes ${first}-${length === null ? '*' : first + length}/${total ?? '*'}`,
        ),
    );
    const view = fc
      .record({
        status: fc.constantFrom('active', 'final', 'failed', 'cancelled' as const),
        persisted: fc.nat({ max: 4 * K }),
        extra: fc.option(fc.nat({ max: 4 * K }), { nil: undefined }),
        declared: fc.boolean(),
      })
      .map(({ status, persisted, extra, declared }) =>
        session({
          status,
          persisted,
          total: extra === undefined ? undefined : persisted + extra,
          declaredSize: declared && extra !== undefined ? persisted + extra : undefined,
        }),
      );
    fc.assert(
      fc.property(
        view,
        header,
        fc.option(fc.nat({ max: 8 * K }), { nil: undefined }),
        (s, contentRange, contentLength) => {
          const decision = decideChunk(s, { contentRange, contentLength }, NOW);
          if (decision.kind === 'write') {
            const { start, skip, limit } = decision.plan;
            assert.ok(start <= s.persisted && skip === s.persisted - start && limit <= MAX);
          }
          if (decision.kind === 'finalize') assert.equal(decision.size, s.persisted);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** The plan decideChunk makes for a request (which must be a write). */
function planFor(
  fields: Partial<SessionView>,
  contentRange: string | undefined,
  contentLength?: number,
): WritePlan {
  const decision = decide(fields, contentRange, contentLength);
  assert.equal(decision.kind, 'write', JSON.stringify(decision));
  return (decision as { plan: WritePlan }).plan;
}

describe('settleWrite', () => {
  const persist = (persisted: number): Settlement => ({ kind: 'persist', persisted });
  const complete = (size: number): Settlement => ({ kind: 'complete', size });

  it('completes the object when the final chunk arrives whole', () => {
    assert.deepEqual(
      settleWrite({ persisted: 0 }, planFor({}, 'bytes 0-9/10'), 10, true),
      complete(10),
    );
    const resend = planFor({ persisted: K }, `bytes 0-*/${2 * K + 7}`);
    assert.deepEqual(settleWrite({ persisted: K }, resend, 2 * K + 7, true), complete(2 * K + 7));
  });

  it('stores a whole non-final chunk', () => {
    const plan = planFor({ persisted: K }, `bytes ${K}-${3 * K - 1}/*`, 2 * K);
    assert.deepEqual(settleWrite({ persisted: K }, plan, 2 * K, true), persist(3 * K));
  });

  it('stores only the 256 KiB-aligned prefix of an unaligned non-final chunk', () => {
    const plan = planFor({}, `bytes 0-${K + 99}/*`, K + 100);
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, K + 100, true), persist(K));
  });

  it('keeps the aligned prefix of an interrupted body', () => {
    const plan = planFor({}, `bytes 0-${2 * K - 1}/*`, 2 * K);
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, K + 5, false), persist(K));
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, K - 1, false), persist(0));
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, 0, false), persist(0));
  });

  it('keeps nothing of an interrupted final chunk below 256 KiB', () => {
    assert.deepEqual(
      settleWrite({ persisted: 0 }, planFor({}, 'bytes 0-9/10'), 5, false),
      persist(0),
    );
  });

  it('stays at an interrupted final chunk whose bytes all arrived but whose body did not end', () => {
    const plan = planFor({}, `bytes 0-${2 * K - 1}/${2 * K}`);
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, 2 * K, false), persist(2 * K));
  });

  it('never goes below what is stored', () => {
    const plan = planFor({ persisted: 2 * K }, `bytes 0-${3 * K - 1}/*`);
    assert.deepEqual(settleWrite({ persisted: 2 * K }, plan, 10, false), persist(2 * K));
    assert.deepEqual(settleWrite({ persisted: 2 * K }, plan, 2 * K + 10, false), persist(2 * K));
    assert.deepEqual(settleWrite({ persisted: 2 * K }, plan, 10, false, true), persist(2 * K));
  });

  it('keeps every received byte with keepUnaligned', () => {
    const plan = planFor({}, `bytes 0-${2 * K - 1}/*`);
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, K + 5, false, true), persist(K + 5));
    assert.deepEqual(
      settleWrite({ persisted: 0 }, planFor({}, 'bytes 0-9/10'), 7, false, true),
      persist(7),
    );
  });

  it('refuses a body longer than the range', () => {
    const plan = planFor({}, 'bytes 0-9/10');
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, 11, true), {
      kind: 'reject',
      error: bodyLengthMismatch(11, 10),
    });
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, 11, false), {
      kind: 'reject',
      error: bodyLengthMismatch(11, 10),
    });
    const rest = planFor({ declaredSize: 1000 }, 'bytes 0-*/*');
    assert.equal(settleWrite({ persisted: 0 }, rest, 1001, true).kind, 'reject');
  });

  it('refuses a body that ends short of an announced length', () => {
    const plan = planFor({}, `bytes 0-${K - 1}/*`);
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, K - 1, true), {
      kind: 'reject',
      error: bodyLengthMismatch(K - 1, K),
    });
    assert.deepEqual(settleWrite({ persisted: 0 }, planFor({}, 'bytes 0-*/10'), 9, true), {
      kind: 'reject',
      error: bodyLengthMismatch(9, 10),
    });
  });

  it('completes an open-ended body wherever it ends', () => {
    const plan = planFor({}, 'bytes 0-*/*');
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, 1000, true), complete(1000));
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, 0, true), complete(0));
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, K + 3, false), persist(K));
  });

  it('refuses an open-ended body that ends below what is stored', () => {
    const plan = planFor({ persisted: 2 * K }, 'bytes 0-*/*');
    assert.deepEqual(settleWrite({ persisted: 2 * K }, plan, 100, true), {
      kind: 'reject',
      error: totalBelowPersisted(100, 2 * K),
    });
  });

  it('treats a body that stops short of the declared size as a non-final chunk', () => {
    const plan = planFor({ declaredSize: 3 * K }, 'bytes 0-*/*');
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, 2 * K, true), persist(2 * K));
    assert.deepEqual(settleWrite({ persisted: 0 }, plan, 3 * K, true), complete(3 * K));
  });
});

describe('incompleteResponse', () => {
  it('answers 308 with the stored range', () => {
    assert.deepEqual(incompleteResponse(K, false), {
      status: 308,
      headers: { range: 'bytes=0-262143' },
    });
    assert.deepEqual(incompleteResponse(1, false), {
      status: 308,
      headers: { range: 'bytes=0-0' },
    });
  });

  it('sends no Range when nothing is stored', () => {
    assert.deepEqual(incompleteResponse(0, false), { status: 308, headers: {} });
  });

  it('answers 200 with X-HTTP-Status-Code-Override for clients that cannot take a 308', () => {
    assert.deepEqual(incompleteResponse(K, true), {
      status: 200,
      headers: { range: 'bytes=0-262143', 'x-http-status-code-override': '308' },
    });
    assert.deepEqual(incompleteResponse(0, true), {
      status: 200,
      headers: { 'x-http-status-code-override': '308' },
    });
  });

  it('reports what a client reads back as the stored size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), fc.boolean(), (persisted, no308) => {
        assert.equal(
          parsePersistedRange(incompleteResponse(persisted, no308).headers['range']),
          persisted,
        );
      }),
    );
  });
});

// A whole upload against a model server that applies decideChunk and settleWrite, with a client
// that behaves correctly but suffers every misfortune: dropped connections at any byte, resends
// from any offset at or before the stored size, all the Content-Range forms, status queries.
describe('a simulated upload', () => {
  interface Step {
    readonly query: boolean;
    /** Where to resume, as thousandths of the stored size. */
    readonly from: number;
    readonly chunks: number;
    readonly form: 'ranged' | 'rest' | 'whole';
    readonly announceTotal: boolean;
    readonly announceLength: boolean;
    /** The connection drops after this many thousandths of the body. */
    readonly cut: number | undefined;
  }
  const step: fc.Arbitrary<Step> = fc.record({
    query: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    from: fc.integer({ min: 0, max: 1000 }),
    chunks: fc.integer({ min: 1, max: 4 }),
    form: fc.constantFrom('ranged', 'ranged', 'rest', 'whole'),
    announceTotal: fc.boolean(),
    announceLength: fc.boolean(),
    cut: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
  });
  const size = fc.oneof(
    fc.integer({ min: 0, max: 5 * K + K / 2 }),
    fc.integer({ min: 0, max: 5 }).map((n) => n * K),
  );

  /** The request a client sends for a step, given the stored size it last heard of. */
  function request(s: Step, T: number, persisted: number, declared: boolean) {
    if (s.query)
      return {
        contentRange: s.announceTotal ? `bytes */${T}` : 'bytes */*',
        contentLength: 0,
        body: 0,
        start: 0,
      };
    const start = s.form === 'whole' ? 0 : Math.floor((s.from * persisted) / 1000);
    let contentRange: string | undefined;
    let end = T;
    if (s.form === 'ranged') {
      end = Math.min(start + s.chunks * K, T);
      if (start === T) return { contentRange: `bytes */${T}`, contentLength: 0, body: 0, start };
      const final = end === T;
      const total = s.announceTotal || (final && !declared) ? String(T) : '*';
      contentRange = `bytes ${start}-${end - 1}/${total}`;
    } else if (s.form === 'rest') {
      contentRange = `bytes ${start}-*/${s.announceTotal ? T : '*'}`;
    }
    const body = end - start;
    return { contentRange, contentLength: s.announceLength ? body : undefined, body, start };
  }

  it('only ever advances, never past what was sent, and completes at the right size', () => {
    fc.assert(
      fc.property(
        size,
        fc.boolean(),
        fc.boolean(),
        fc.array(step, { maxLength: 30 }),
        (T, declared, keepUnaligned, steps) => {
          const server = { ...session({ declaredSize: declared ? T : undefined }) } as {
            -readonly [k in keyof SessionView]: SessionView[k];
          };
          let sent = 0; // the contiguous prefix the server has been sent
          let done = false;
          const calm: Step = {
            query: false,
            from: 1000,
            chunks: 4,
            form: 'ranged',
            announceTotal: true,
            announceLength: true,
            cut: undefined,
          };
          const script = [...steps, ...Array<Step>(10).fill(calm)];
          for (const s of script) {
            if (done) break;
            const r = request(s, T, server.persisted, declared);
            const decision = decideChunk(
              server,
              { contentRange: r.contentRange, contentLength: r.contentLength },
              NOW,
            );
            const context = JSON.stringify({ T, declared, server, request: r, decision });
            if (decision.kind === 'status') continue;
            if (decision.kind === 'finalize') {
              assert.equal(decision.size, T, context);
              done = true;
              continue;
            }
            assert.equal(decision.kind, 'write', context);
            if (decision.kind !== 'write') return;
            const received = s.cut === undefined ? r.body : Math.floor((s.cut * r.body) / 1000);
            const settlement = settleWrite(
              server,
              decision.plan,
              received,
              s.cut === undefined,
              keepUnaligned,
            );
            sent = Math.max(sent, decision.plan.start + received);
            if (settlement.kind === 'reject')
              assert.fail(`rejected: ${context} ${JSON.stringify(settlement)}`);
            if (settlement.kind === 'complete') {
              assert.equal(settlement.size, T, context);
              assert.equal(sent, T, context);
              done = true;
              continue;
            }
            const P = settlement.persisted;
            assert.ok(P >= server.persisted, `went back: ${context} -> ${P}`);
            assert.ok(P <= sent, `claims bytes never sent: ${context} -> ${P}`);
            assert.ok(P <= T, context);
            if (!keepUnaligned && P !== server.persisted) assert.equal(P % K, 0, context);
            server.persisted = P;
            server.total = decision.plan.total ?? server.total;
          }
          assert.ok(done, `never completed: T=${T} persisted=${server.persisted}`);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
