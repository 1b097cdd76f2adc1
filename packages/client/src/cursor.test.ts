import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CHUNK_GRANULARITY as G, UploadHasher } from '@spool/core';
import { SeekableCursor, StreamCursor, type Cursor } from './cursor.js';
import { SourceError } from './errors.js';
import { bytesSource } from './sources.js';

/** The hasher the cursors get: the portable one, with MD5, so that digests compare in full. */
const hasher = () => new UploadHasher();

/** The bytes as a stream, cut at the given points. */
function pieces(bytes: Uint8Array, cuts: number[]): AsyncIterator<Uint8Array> {
  return Readable.from(split(bytes, cuts))[Symbol.asyncIterator]();
}

function* split(bytes: Uint8Array, cuts: number[]): Generator<Uint8Array> {
  let at = 0;
  for (const cut of [
    ...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b),
    bytes.length,
  ]) {
    if (cut < at) continue;
    yield bytes.slice(at, cut);
    at = cut;
  }
}

async function collect(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Drives a cursor the way an upload does, with a server that keeps `kept(request)` bytes of each
 * request, and returns what the server ends up with.
 */
async function drive(cursor: Cursor, keep: number[]): Promise<Buffer> {
  const stored: Buffer[] = [];
  let have = 0;
  for (let round = 0; ; round++) {
    const plan = await cursor.plan();
    assert.equal(plan.start, have);
    const body = plan.end > plan.start ? await collect(cursor.body(plan).chunks) : Buffer.alloc(0);
    assert.equal(body.length, plan.end - plan.start);
    const fraction = keep[round] ?? 1;
    const kept = plan.final && fraction >= 0.5 ? body.length : Math.floor(body.length * fraction);
    stored.push(body.subarray(0, kept));
    have += kept;
    if (plan.final && kept === body.length) return Buffer.concat(stored);
    await cursor.seek(have);
    if (round > 10_000) assert.fail('no end');
  }
}

describe('StreamCursor', () => {
  it('uploads exactly the stream, however it is cut and whatever the server keeps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5 * G }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
        async (bytes, cuts, units, keep) => {
          const cursor = new StreamCursor(pieces(bytes, cuts), units * G, hasher);
          const stored = await drive(cursor, keep);
          assert.deepEqual(new Uint8Array(stored), bytes);
          const { size, hashes } = await cursor.digests();
          assert.equal(size, bytes.length);
          assert.deepEqual(hashes, new UploadHasher().update(bytes).digests());
        },
      ),
      { numRuns: 60 },
    );
  });

  it('holds at most a chunk and 256 KiB, and knows the size only at the end', async () => {
    const bytes = new Uint8Array(3 * G + 5);
    const cursor = new StreamCursor(pieces(bytes, [G - 1, 2 * G + 7]), G, hasher);
    const first = await cursor.plan();
    assert.deepEqual(first, { start: 0, end: G, final: false });
    assert.equal(cursor.size(), undefined);
    // The server kept only 100 bytes: the tail is too short to send alone, so the next request
    // re-aligns, one chunk and the tail long.
    await cursor.seek(100);
    assert.deepEqual(await cursor.plan(), { start: 100, end: 2 * G, final: false });
    assert.deepEqual(cursor.window(), { local: 100, buffered: 2 * G - 100 });
    await cursor.seek(2 * G);
    assert.deepEqual(await cursor.plan(), { start: 2 * G, end: 3 * G, final: false });
    await cursor.seek(3 * G);
    assert.deepEqual(await cursor.plan(), { start: 3 * G, end: 3 * G + 5, final: true });
    assert.equal(cursor.size(), 3 * G + 5);
  });

  it('resumes a session by reading forward to the server offset, and refuses a shorter stream', async () => {
    const bytes = new Uint8Array(2 * G).map((_, i) => i % 251);
    const cursor = new StreamCursor(pieces(bytes, [1000]), G, hasher);
    assert.equal(cursor.window().buffered, Infinity);
    await cursor.seek(G + 10);
    const plan = await cursor.plan();
    assert.deepEqual(plan, { start: G + 10, end: 2 * G, final: true });
    assert.deepEqual(
      new Uint8Array(await collect(cursor.body(plan).chunks)),
      bytes.subarray(G + 10),
    );
    assert.deepEqual((await cursor.digests()).hashes, new UploadHasher().update(bytes).digests());

    const short = new StreamCursor(pieces(bytes.subarray(0, 10), []), G, hasher);
    await assert.rejects(short.seek(11), SourceError);
  });

  it('refuses a stream of strings with a message saying why', async () => {
    const cursor = new StreamCursor(Readable.from(['text'])[Symbol.asyncIterator](), G, hasher);
    await assert.rejects(cursor.plan(), /instead of bytes/);
  });
});

describe('SeekableCursor', () => {
  it('uploads exactly the source and hashes every byte once, whatever the server keeps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4 * G }),
        fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
        async (bytes, units, keep) => {
          const cursor = new SeekableCursor(bytesSource(bytes), units && units * G, hasher);
          const stored = await drive(cursor, keep);
          assert.deepEqual(new Uint8Array(stored), bytes);
          assert.deepEqual(
            (await cursor.digests()).hashes,
            new UploadHasher().update(bytes).digests(),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('re-reads the prefix to hash it when a session resumes past it', async () => {
    const bytes = new Uint8Array(3 * G).map((_, i) => (i * 7) % 256);
    const cursor = new SeekableCursor(bytesSource(bytes), undefined, hasher);
    await cursor.seek(2 * G + 3);
    const plan = await cursor.plan();
    assert.deepEqual(plan, { start: 2 * G + 3, end: 3 * G, final: true });
    assert.deepEqual((await cursor.digests()).hashes, new UploadHasher().update(bytes).digests());
  });

  it('stops with a SourceError when the source is shorter than it said', async () => {
    const cursor = new SeekableCursor(
      { size: 10, read: () => [new Uint8Array(4)] },
      undefined,
      hasher,
    );
    const plan = await cursor.plan();
    await assert.rejects(collect(cursor.body(plan).chunks), SourceError);
  });
});
