import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { reconcile, type ReconcileInput, type Reconciliation } from './reconcile.js';

const MiB = 1024 * 1024;

function input(fields: Partial<ReconcileInput>): ReconcileInput {
  return { local: 0, buffered: 8 * MiB, remote: 0, acknowledged: 0, sent: 8 * MiB, ...fields };
}

describe('reconcile: the seed six cases', () => {
  it('case 1: nothing stored, nothing acknowledged: resend from the start', () => {
    assert.deepEqual(reconcile(input({})), { kind: 'resend', seedCase: 1, offset: 0 });
  });

  it('case 2: the server is exactly at the start of the buffered chunk: resend it', () => {
    const r = reconcile(
      input({ local: 16 * MiB, remote: 16 * MiB, acknowledged: 16 * MiB, sent: 20 * MiB }),
    );
    assert.deepEqual(r, { kind: 'resend', seedCase: 2, offset: 16 * MiB });
  });

  it('case 3: the server kept part of the chunk: resend the tail from the drift', () => {
    const r = reconcile(
      input({ local: 16 * MiB, remote: 19 * MiB, acknowledged: 16 * MiB, sent: 24 * MiB }),
    );
    assert.deepEqual(r, { kind: 'resend-tail', seedCase: 3, offset: 19 * MiB, drift: 3 * MiB });
  });

  it('case 3 with an unaligned offset (storage-testbench keeps any prefix)', () => {
    const r = reconcile(input({ local: 0, remote: 307_200, sent: 8 * MiB }));
    assert.deepEqual(r, { kind: 'resend-tail', seedCase: 3, offset: 307_200, drift: 307_200 });
  });

  it('case 4: the drift is the whole chunk: move on', () => {
    const r = reconcile(
      input({ local: 16 * MiB, remote: 24 * MiB, acknowledged: 16 * MiB, sent: 24 * MiB }),
    );
    assert.deepEqual(r, { kind: 'move-on', seedCase: 4, offset: 24 * MiB });
  });

  it('case 4 with an empty buffer: nothing to resend, move on', () => {
    const r = reconcile(input({ local: 5, buffered: 0, remote: 5, acknowledged: 5, sent: 5 }));
    assert.deepEqual(r, { kind: 'move-on', seedCase: 4, offset: 5 });
  });

  it('case 5: the server is past the buffer: data loss naming both offsets', () => {
    // Only reachable when the client sent more than it still buffers, e.g. after a restart.
    const r = reconcile(
      input({ local: 16 * MiB, remote: 25 * MiB, acknowledged: 16 * MiB, sent: 32 * MiB }),
    );
    assert.equal(r.kind, 'data-loss');
    assert.equal(r.kind === 'data-loss' && r.scenario, 'server-ahead-of-buffer');
    assert.equal(r.kind === 'data-loss' && r.seedCase, 5);
    assert.equal(r.kind === 'data-loss' && r.local, 24 * MiB);
    assert.equal(r.kind === 'data-loss' && r.remote, 25 * MiB);
    assert.match(r.kind === 'data-loss' ? r.message : '', /26214400 byte\(s\).*25165824 byte\(s\)/);
  });

  it('case 6: the server is behind the buffer: data loss naming both offsets', () => {
    const r = reconcile(
      input({ local: 16 * MiB, remote: 8 * MiB, acknowledged: 0, sent: 24 * MiB }),
    );
    assert.equal(r.kind, 'data-loss');
    assert.equal(r.kind === 'data-loss' && r.scenario, 'server-behind-buffer');
    assert.equal(r.kind === 'data-loss' && r.seedCase, 6);
    assert.match(r.kind === 'data-loss' ? r.message : '', /8388608 byte\(s\).*byte 16777216/);
  });
});

describe('reconcile: a server that contradicts itself', () => {
  it('a Range that goes backwards is data loss even when the buffer could cover it', () => {
    const r = reconcile(
      input({
        local: 0,
        buffered: 100 * MiB,
        remote: 4 * MiB,
        acknowledged: 8 * MiB,
        sent: 100 * MiB,
      }),
    );
    assert.equal(r.kind === 'data-loss' && r.scenario, 'server-lost-acknowledged');
    assert.match(
      r.kind === 'data-loss' ? r.message : '',
      /reports 4194304 byte\(s\) stored, but it had acknowledged 8388608/,
    );
  });

  it('a Range past what was sent is data loss even when the buffer holds those bytes', () => {
    const r = reconcile(input({ local: 0, buffered: 100 * MiB, remote: 9 * MiB, sent: 8 * MiB }));
    assert.equal(r.kind === 'data-loss' && r.scenario, 'server-ahead-of-sent');
    assert.match(r.kind === 'data-loss' ? r.message : '', /sent only 8388608 byte\(s\)/);
  });
});

/**
 * A simulated upload. The client streams `source` in chunks of `chunk` bytes, keeping one chunk
 * (or, as a file, the whole source) to resend from; every request may be cut anywhere, and the
 * server persists any prefix of what reached it, aligned or not, but never goes backwards. The
 * client follows `reconcile` alone. Returns what the server ends up with.
 */
function simulate(
  source: Uint8Array,
  chunk: number,
  seekable: boolean,
  choices: readonly number[],
): { stored: Uint8Array; outcomes: Set<string> } {
  let c = 0;
  // When the random choices run out, the network behaves: everything sent arrives and is kept.
  const pick = (max: number, otherwise: number) =>
    c < choices.length ? choices[c++]! % (max + 1) : otherwise;
  const stored: number[] = [];
  const outcomes = new Set<string>();
  let local = 0;
  let buffered = seekable ? source.length : Math.min(chunk, source.length);
  // What the client can resend from: a copy, as a stream's chunk buffer is.
  let buffer = source.slice(local, local + buffered);
  let acknowledged = 0;
  let sent = 0;
  let offset = 0;
  for (let round = 0; round < 10_000; round++) {
    if (stored.length === source.length && offset === source.length) {
      if (seekable || local + buffered === source.length) break;
    }
    // Send from `offset` to the end of the buffer; the connection may break part way.
    const end = local + buffered;
    const reached = offset + pick(end - offset, end - offset);
    sent = Math.max(sent, reached);
    for (let i = offset; i < reached; i++) {
      const byte = buffer[i - local];
      if (byte === undefined) throw new Error(`the client has no byte ${i} to send`);
      // The server skips bytes it already has, as GCS does.
      if (i === stored.length) stored.push(byte);
      else if (i > stored.length) throw new Error('the client sent past what the server has');
    }
    // The server persists some prefix of what it has received; it may also lose the unpersisted
    // part, so its offset is anything from what it acknowledged to what arrived.
    const kept = acknowledged + pick(reached - acknowledged, reached - acknowledged);
    stored.length = Math.max(acknowledged, Math.min(kept, stored.length));
    const result: Reconciliation = reconcile({
      local,
      buffered,
      remote: stored.length,
      acknowledged,
      sent,
    });
    outcomes.add(result.kind);
    if (result.kind === 'data-loss') throw new Error(result.message);
    acknowledged = stored.length;
    offset = result.offset;
    if (result.kind === 'move-on' && !seekable) {
      local = result.offset;
      buffered = Math.min(chunk, source.length - local);
      buffer = source.slice(local, local + buffered);
    }
  }
  return { stored: Uint8Array.from(stored), outcomes };
}

describe('reconcile: property tests with a server that persists any prefix', () => {
  const upload = fc.record({
    source: fc.uint8Array({ maxLength: 300, size: 'max' }),
    chunk: fc.integer({ min: 1, max: 64 }),
    choices: fc.array(fc.nat(), { maxLength: 200, size: 'max' }),
  });

  it('a stream with one buffered chunk always ends with exactly the source bytes', () => {
    fc.assert(
      fc.property(upload, ({ source, chunk, choices }) => {
        const { stored } = simulate(source, chunk, false, choices);
        assert.deepEqual(stored, source);
      }),
      { numRuns: 500 },
    );
  });

  it('a file or Blob, re-read from any offset, always ends with exactly the source bytes', () => {
    fc.assert(
      fc.property(upload, ({ source, chunk, choices }) => {
        const { stored } = simulate(source, chunk, true, choices);
        assert.deepEqual(stored, source);
      }),
      { numRuns: 500 },
    );
  });

  it('the simulation meets every outcome but data loss', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(upload, ({ source, chunk, choices }) => {
        for (const o of simulate(source, chunk, false, choices).outcomes) seen.add(o);
      }),
      { numRuns: 300 },
    );
    assert.deepEqual([...seen].sort(), ['move-on', 'resend', 'resend-tail']);
  });

  it('never continues when the server reports less than it acknowledged or more than was sent', () => {
    fc.assert(
      fc.property(
        fc.record({
          local: fc.nat(1000),
          buffered: fc.nat(1000),
          acknowledged: fc.nat(3000),
          sent: fc.nat(3000),
          remote: fc.nat(3000),
        }),
        (i) => {
          fc.pre(i.remote < i.acknowledged || i.remote > i.sent);
          assert.equal(reconcile(i).kind, 'data-loss');
        },
      ),
    );
  });

  it('continues exactly at the server offset whenever it continues', () => {
    fc.assert(
      fc.property(
        fc.record({
          local: fc.nat(1000),
          buffered: fc.nat(1000),
          acknowledged: fc.nat(3000),
          sent: fc.nat(3000),
          remote: fc.nat(3000),
        }),
        (i) => {
          const r = reconcile(i);
          if (r.kind === 'data-loss') return;
          assert.equal(r.offset, i.remote);
          assert.ok(i.remote >= i.local && i.remote <= i.local + i.buffered);
        },
      ),
    );
  });
});
