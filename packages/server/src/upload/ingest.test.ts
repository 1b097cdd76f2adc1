import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UploadHasher, protocolError, type WritePlan } from '@spool/core';
import { BodyReader } from '../http/body.js';
import type { BlobWriter } from '../store/types.js';
import { ingest, type InterruptDecision } from './ingest.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const answer = { answer: protocolError(503, 'backendError', 'injected') };

/** A request body delivered in the given pieces, as the HTTP server would deliver it. */
function bodyOf(pieces: Buffer[]): BodyReader {
  const stream = new PassThrough();
  const req = Object.assign(stream, { complete: false });
  stream.on('end', () => (req.complete = true));
  for (const piece of pieces) stream.write(piece);
  stream.end();
  return new BodyReader(req as unknown as IncomingMessage);
}

/** Blob bytes in memory: what ingest wrote. */
function memoryWriter(): BlobWriter & { bytes(): Buffer } {
  const parts: Buffer[] = [];
  return {
    write: (bytes) => {
      parts.push(Buffer.from(bytes));
      return Promise.resolve();
    },
    commit: () => Promise.resolve(undefined),
    abandon: () => Promise.resolve(),
    bytes: () => Buffer.concat(parts),
  };
}

function plan(start: number, persisted: number, end: number): WritePlan {
  return { start, skip: persisted - start, limit: end, exact: true, completesAt: end, total: end };
}

function split(data: Buffer, size: number): Buffer[] {
  const pieces = [];
  for (let p = 0; p < data.length; p += size) pieces.push(data.subarray(p, p + size));
  return pieces;
}

const hashOf = (bytes: Buffer) => new UploadHasher().update(bytes).save();

describe('ingest with an interrupt', () => {
  it('stops at the offset inside a piece, keeping exactly the bytes before it', async () => {
    const data = randomBytes(MiB);
    const writer = memoryWriter();
    const seen: number[] = [];
    const result = await ingest(bodyOf(split(data, 100 * KiB)), writer, plan(0, 0, data.length), {
      persisted: 0,
      hash: new UploadHasher().save(),
      interrupt: {
        offset: 300 * KiB,
        reached: (stored) => (seen.push(stored), Promise.resolve(answer)),
      },
    });
    assert.deepEqual(seen, [300 * KiB]);
    assert.equal(result.end, 'stopped');
    assert.equal(result.answer, answer.answer);
    assert.equal(result.received, 300 * KiB);
    assert.equal(result.written, 300 * KiB);
    assert.deepEqual(writer.bytes(), data.subarray(0, 300 * KiB));
    assert.deepEqual(result.hashAt(300 * KiB), hashOf(data.subarray(0, 300 * KiB)));
  });

  it('counts the offset in the upload, not in the body: resent bytes are skipped', async () => {
    const data = randomBytes(MiB);
    const writer = memoryWriter();
    const persisted = 256 * KiB;
    const result = await ingest(
      bodyOf(split(data, 64 * KiB)),
      writer,
      plan(0, persisted, data.length),
      {
        persisted,
        hash: hashOf(data.subarray(0, persisted)),
        interrupt: { offset: 300 * KiB, reached: () => Promise.resolve(answer) },
      },
    );
    assert.equal(result.received, 300 * KiB);
    assert.deepEqual(writer.bytes(), data.subarray(persisted, 300 * KiB));
    assert.deepEqual(result.hashAt(300 * KiB), hashOf(data.subarray(0, 300 * KiB)));
  });

  it('asks before reading anything when the upload is already at or past the offset', async () => {
    const data = randomBytes(MiB);
    const writer = memoryWriter();
    const persisted = 512 * KiB;
    const seen: number[] = [];
    const result = await ingest(
      bodyOf([data.subarray(persisted)]),
      writer,
      plan(persisted, persisted, data.length),
      {
        persisted,
        hash: hashOf(data.subarray(0, persisted)),
        interrupt: {
          offset: 300 * KiB,
          reached: (stored) => (seen.push(stored), Promise.resolve(answer)),
        },
      },
    );
    assert.deepEqual(seen, [persisted]);
    assert.equal(result.end, 'stopped');
    assert.equal(result.received, 0);
    assert.equal(writer.bytes().length, 0);
  });

  it('goes on after a pause, and ends as superseded when told so', async () => {
    const data = randomBytes(MiB);
    const run = async (decision: InterruptDecision) => {
      const writer = memoryWriter();
      const result = await ingest(bodyOf(split(data, 128 * KiB)), writer, plan(0, 0, data.length), {
        persisted: 0,
        hash: new UploadHasher().save(),
        interrupt: { offset: 200 * KiB, reached: () => Promise.resolve(decision) },
      });
      return { result, bytes: writer.bytes() };
    };
    const on = await run('continue');
    assert.equal(on.result.end, 'complete');
    assert.deepEqual(on.bytes, data);
    const superseded = await run('superseded');
    assert.equal(superseded.result.end, 'superseded');
    assert.equal(superseded.result.received, 200 * KiB);
    assert.deepEqual(superseded.bytes, data.subarray(0, 200 * KiB));
  });

  it('keeps bytes P to Y of the upload for any pieces, resent prefix and offset', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 64 * KiB }),
        fc.integer({ min: 0, max: 200 * KiB }),
        fc.integer({ min: 0, max: 200 * KiB }),
        fc.integer({ min: 1, max: 256 * KiB }),
        async (pieceSize, start, resent, length) => {
          const data = randomBytes(start + resent + length);
          const persisted = start + resent;
          const end = data.length;
          const offset = persisted + Math.floor(length / 2) + 1;
          const writer = memoryWriter();
          const result = await ingest(
            bodyOf(split(data.subarray(start), pieceSize)),
            writer,
            plan(start, persisted, end),
            {
              persisted,
              hash: hashOf(data.subarray(0, persisted)),
              interrupt: { offset, reached: () => Promise.resolve(answer) },
            },
          );
          assert.equal(result.end, 'stopped');
          assert.equal(result.received, offset - start);
          assert.deepEqual(writer.bytes(), data.subarray(persisted, offset));
          assert.deepEqual(result.hashAt(offset), hashOf(data.subarray(0, offset)));
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('ingest with checkpoints in the background', () => {
  it('asks for a checkpoint only where the hashes and the stored bytes agree', async () => {
    // A checkpoint that ends while a write is still waiting (the disk is slow) must not ask the
    // hasher for a state: the hasher already has bytes that are not counted as stored yet.
    const data = Buffer.alloc(200 * MiB, 7);
    const parts: Buffer[] = [];
    let releaseCommit: (() => void) | undefined;
    let releaseWrite: (() => void) | undefined;
    let commits = 0;
    const checkpoints: number[] = [];
    const writer: BlobWriter = {
      concurrentCheckpoints: true,
      write: async (bytes) => {
        parts.push(Buffer.from(bytes));
        const written = parts.reduce((n, p) => n + p.length, 0);
        // The write that brings the body past 130 MiB waits until the first checkpoint ended.
        if (written >= 130 * MiB && written - bytes.length < 130 * MiB) {
          await new Promise<void>((resolve) => (releaseWrite = resolve));
        }
      },
      commit: async (_offset, final) => {
        if (!final && commits++ === 0) {
          await new Promise<void>((resolve) => (releaseCommit = resolve));
        }
        return undefined;
      },
      abandon: () => Promise.resolve(),
    };
    const ingesting = ingest(bodyOf(split(data, MiB)), writer, plan(0, 0, data.length), {
      persisted: 0,
      hash: new UploadHasher().save(),
      checkpoint: (offset) => (checkpoints.push(offset), Promise.resolve()),
    });
    const writeWaits = (async () => {
      while (!releaseWrite) await new Promise((resolve) => setImmediate(resolve));
    })();
    // An ingest that fails before the write waits fails the test here.
    await Promise.race([writeWaits, ingesting]);
    // The first checkpoint ends now, with the write at 130 MiB still waiting.
    releaseCommit!();
    await new Promise((resolve) => setTimeout(resolve, 50));
    releaseWrite!();
    const result = await ingesting;
    assert.equal(result.end, 'complete');
    assert.equal(result.written, data.length);
    assert.ok(checkpoints.length >= 2, `checkpoints at ${checkpoints.join(', ')}`);
    assert.ok(checkpoints.every((offset) => offset % (256 * KiB) === 0));
  });

  it('checkpoints on the way, but not once every announced byte is in', async () => {
    // The request's own commit follows at once: a checkpoint there would sync and record twice.
    const checkpointsOf = async (size: number) => {
      const data = Buffer.alloc(size, 3);
      const checkpoints: number[] = [];
      const writer = { ...memoryWriter(), concurrentCheckpoints: true };
      const result = await ingest(bodyOf(split(data, 256 * KiB)), writer, plan(0, 0, size), {
        persisted: 0,
        hash: new UploadHasher().save(),
        checkpoint: (offset) => (checkpoints.push(offset), Promise.resolve()),
      });
      assert.equal(result.end, 'complete');
      return checkpoints;
    };
    assert.deepEqual(await checkpointsOf(8 * MiB), []);
    const long = await checkpointsOf(20 * MiB);
    assert.ok(long.length >= 1 && long.every((offset) => offset < 20 * MiB), long.join(', '));
  });
});
