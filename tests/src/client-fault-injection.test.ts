// The client against `spool serve --fault-injection`: Google's conformance scenario 7 (resumable
// uploads handle complex retries) and every upload instruction, each for a file, a stream and
// bytes, through the Retry Test API (x-retry-test-id on every request). Each upload that can
// succeed ends byte-identical with its retry test completed; each that cannot ends with a clear
// error and no object.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  HttpError,
  StallError,
  createUpload,
  type NodeUploadSource,
  type RetryEvent,
} from '@spool/client/node';
import { pieces, readObject, scratchDir, testOptions, writeScratch } from './harness/client.js';
import { createRetryTest, getRetryTest } from './harness/faults.js';
import { MiB, md5Base64, randomData } from './harness/gcs.js';
import { send } from './harness/http.js';
import { SpoolProcess, repoRoot } from './harness/spool-process.js';

const SIZE = 9 * MiB;
const CHUNK_SIZE = 2 * MiB;
const data = randomData(SIZE);
const dir = await scratchDir();
const path = await writeScratch(dir, 'upload.bin', data);

let spool: SpoolProcess;
before(async () => {
  spool = await SpoolProcess.start({ args: ['--fault-injection'] });
});
after(async () => spool.stop());

/** The three kinds of source: a file and bytes in one streaming request, a stream in chunks. */
const sources: { name: string; make(): NodeUploadSource; chunkSize?: number }[] = [
  { name: 'a file', make: () => path },
  { name: 'a stream', make: () => Readable.from(pieces(data, 100_000)), chunkSize: CHUNK_SIZE },
  { name: 'bytes', make: () => new Uint8Array(data) },
];

let counter = 0;

interface Outcome {
  name: string;
  error: Error | undefined;
  retries: RetryEvent[];
  completed: boolean;
}

/**
 * Uploads under a new retry test. The test's id goes on every request, or, with `fromData`, on
 * every request after the session has started (so that an instruction meant for any request
 * meets a chunk, not the initiation). Straight to the server: harness/wire-recorder.ts, an
 * in-process HTTP proxy, sometimes leaves Node spinning at exit after a request it relayed was
 * cut short.
 */
async function run(
  t: TestContext,
  source: (typeof sources)[number],
  instructions: string[],
  options: { fromData?: boolean; stallTimeout?: number } = {},
): Promise<Outcome> {
  const test = await createRetryTest(spool.url, { 'storage.objects.insert': instructions });
  const name = `faults/${++counter}.bin`;
  const headers: Record<string, string> = options.fromData ? {} : { 'x-retry-test-id': test.id };
  const task = await createUpload(source.make(), `gs://test-bucket/${name}`, {
    ...testOptions(spool.url),
    chunkSize: source.chunkSize,
    headers,
    preconditions: { ifGenerationMatch: '0' },
    ...(options.stallTimeout !== undefined && { stallTimeout: options.stallTimeout }),
  });
  const retries: RetryEvent[] = [];
  task.on('retry', (r) => retries.push(r));
  task.on('session', () => (headers['x-retry-test-id'] = test.id));
  const error = await task.start().then(
    () => undefined,
    (e: Error) => e,
  );
  for (const r of retries) t.diagnostic(`retried after: ${r.error.message}`);
  return {
    name,
    error,
    retries,
    completed: (await getRetryTest(spool.url, test.id)).completed,
  };
}

async function assertIdentical(outcome: Outcome): Promise<void> {
  assert.equal(outcome.error, undefined, String(outcome.error));
  assert.equal(outcome.completed, true, 'every instruction fired');
  assert.equal(md5Base64(await readObject(spool.url, outcome.name)), md5Base64(data));
}

const fixture = JSON.parse(
  await readFile(join(repoRoot, 'tests/fixtures/conformance/retry_tests.json'), 'utf8'),
) as { retryTests: { id: number; cases: { instructions: string[] }[] }[] };
const scenario7 = fixture.retryTests.find((s) => s.id === 7)!;

describe('conformance scenario 7: resumable uploads handle complex retries', () => {
  it('has the four cases of the fixture', () => {
    assert.deepEqual(
      scenario7.cases.map((c) => c.instructions),
      [
        ['return-reset-connection', 'return-503'],
        ['return-408'],
        ['return-503-after-256K'],
        ['return-503-after-8192K', 'return-408'],
      ],
    );
  });

  for (const { instructions } of scenario7.cases) {
    for (const source of sources) {
      it(`${JSON.stringify(instructions)}, ${source.name}: byte-identical, retry test completed`, async (t) => {
        const outcome = await run(t, source, instructions);
        await assertIdentical(outcome);
        assert.equal(outcome.retries.length, instructions.length);
      });
    }
  }
});

describe('every upload instruction', () => {
  for (const source of sources) {
    describe(source.name, () => {
      for (const status of [408, 429, 500, 502, 503, 504]) {
        for (const fromData of [false, true]) {
          const where = fromData ? 'on the first data request' : 'on the session start';
          it(`return-${status} ${where}: retried, byte-identical`, async (t) => {
            const outcome = await run(t, source, [`return-${status}`], { fromData });
            await assertIdentical(outcome);
            // An answer that comes while the body is still being sent may be lost to the
            // connection's reset: then the client saw a network failure. Retried either way.
            assert.equal(outcome.retries.length, 1);
          });
        }
      }

      // On the session start, where no body is on its way to lose the answer to a reset.
      for (const status of [400, 401, 403, 412]) {
        it(`return-${status}: not retried, a clear error, no object`, async (t) => {
          const outcome = await run(t, source, [`return-${status}`]);
          assert.ok(outcome.error instanceof HttpError, String(outcome.error));
          assert.equal(outcome.error.status, status);
          assert.match(
            outcome.error.message,
            new RegExp(`The server answered ${status} when starting an upload session for gs://`),
          );
          assert.equal(outcome.retries.length, 0);
          assert.equal(outcome.completed, true);
          const res = await send({
            method: 'GET',
            url: `${spool.url}/storage/v1/b/test-bucket/o/${encodeURIComponent(outcome.name)}`,
          });
          assert.equal(res.status, 404);
        });
      }

      for (const fromData of [false, true]) {
        const where = fromData ? 'on the first data request' : 'on the session start';
        it(`return-reset-connection ${where}: retried, byte-identical`, async (t) => {
          const outcome = await run(t, source, ['return-reset-connection'], { fromData });
          await assertIdentical(outcome);
          assert.equal(outcome.retries.length, 1);
        });
      }

      for (const instruction of [
        'return-503-after-300K',
        'return-408-after-2500K',
        'return-500-after-8192K',
        'return-429-after-0K',
      ]) {
        it(`${instruction}: resumed from the odd offset kept, byte-identical`, async (t) => {
          const outcome = await run(t, source, [instruction]);
          await assertIdentical(outcome);
          assert.equal(outcome.retries.length, 1);
        });
      }

      it('stall-for-3s-after-1000K with a 500 ms stall timeout: the stall is detected and the upload goes on', async (t) => {
        const outcome = await run(t, source, ['stall-for-3s-after-1000K'], { stallTimeout: 500 });
        await assertIdentical(outcome);
        assert.equal(outcome.retries.length, 1);
        assert.ok(outcome.retries[0]!.error instanceof StallError);
      });

      it('stall-for-1s-after-1000K within the stall timeout: waited out, no retry', async (t) => {
        const outcome = await run(t, source, ['stall-for-1s-after-1000K'], {
          stallTimeout: 10_000,
        });
        await assertIdentical(outcome);
        assert.equal(outcome.retries.length, 0);
      });

      for (const bytes of [0, 100]) {
        it(`return-broken-stream-final-chunk-after-${bytes}B: the object is asked for again and checked`, async (t) => {
          const outcome = await run(t, source, [
            `return-broken-stream-final-chunk-after-${bytes}B`,
          ]);
          await assertIdentical(outcome);
          assert.equal(outcome.retries.length, 1);
        });
      }
    });
  }
});
