// The client's multipart mode (multipartThreshold) against `spool serve --fault-injection`:
// which sources go in one request, and that a request sent again after any failure ends with
// the object exactly once: retried after errors and resets, and, when an earlier request created
// the object but its answer was lost, a 412 from the preconditions is checked against the object
// there rather than reported.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  HttpError,
  InvalidOptionsError,
  createUpload,
  type NodeUploadOptions,
  type NodeUploadSource,
  type RetryEvent,
} from '@spool/client/node';
import { readObject, scratchDir, testOptions, writeScratch } from './harness/client.js';
import { createRetryTest, getRetryTest } from './harness/faults.js';
import { KiB, md5Base64, randomData } from './harness/gcs.js';
import { send } from './harness/http.js';
import { scrape } from './harness/metrics.js';
import { SpoolProcess } from './harness/spool-process.js';

const SIZE = 300 * KiB;
const data = randomData(SIZE);
const dir = await scratchDir();
const path = await writeScratch(dir, 'small.bin', data);

let spool: SpoolProcess;
before(async () => {
  spool = await SpoolProcess.start({ args: ['--fault-injection'] });
});
after(async () => spool.stop());

/** Objects created so far by upload type, from the server's metrics. */
async function stored(type: string): Promise<number> {
  return (await scrape(spool.url)).get(`spool_objects_stored_total{type="${type}"}`) ?? 0;
}

async function objectMetadata(name: string): Promise<Record<string, string>> {
  const res = await send({
    method: 'GET',
    url: `${spool.url}/storage/v1/b/test-bucket/o/${encodeURIComponent(name)}`,
  });
  assert.equal(res.status, 200, res.text());
  return res.json<Record<string, string>>();
}

let counter = 0;

/** Uploads `source` with a threshold of SIZE, the retry test's instructions on every request. */
async function run(
  source: NodeUploadSource,
  instructions: string[],
  options: NodeUploadOptions = {},
  name = `multipart/${++counter}.bin`,
): Promise<{
  name: string;
  result: Awaited<ReturnType<Awaited<ReturnType<typeof createUpload>>['start']>> | Error;
  retries: RetryEvent[];
  sessions: number;
  completed: boolean;
}> {
  const test = await createRetryTest(spool.url, { 'storage.objects.insert': instructions });
  const task = await createUpload(source, `gs://test-bucket/${name}`, {
    ...testOptions(spool.url),
    multipartThreshold: SIZE,
    headers: { 'x-retry-test-id': test.id },
    ...options,
  });
  const retries: RetryEvent[] = [];
  let sessions = 0;
  task.on('retry', (r) => retries.push(r));
  task.on('session', () => sessions++);
  const result = await task.start().catch((e: Error) => e);
  return {
    name,
    result,
    retries,
    sessions,
    completed: (await getRetryTest(spool.url, test.id)).completed,
  };
}

describe('which uploads go in one multipart request', () => {
  for (const [what, make] of [
    ['a file', () => path],
    ['bytes', () => new Uint8Array(data)],
    ['a Blob', () => new Blob([data])],
  ] as const) {
    it(`${what} of exactly the threshold: one request, no session, byte-identical`, async () => {
      const before = await stored('multipart');
      const outcome = await run(make(), []);
      if (outcome.result instanceof Error) throw outcome.result;
      assert.equal(outcome.result.size, String(SIZE));
      assert.equal(outcome.sessions, 0);
      assert.equal((await stored('multipart')) - before, 1);
      assert.equal(md5Base64(await readObject(spool.url, outcome.name)), md5Base64(data));
    });
  }

  it('an empty file with any threshold above 0: one request, an empty object', async () => {
    const empty = await writeScratch(dir, 'empty.bin', Buffer.alloc(0));
    const outcome = await run(empty, [], { multipartThreshold: 1 });
    if (outcome.result instanceof Error) throw outcome.result;
    assert.equal(outcome.result.size, '0');
    assert.equal(outcome.sessions, 0);
  });

  it('one byte over the threshold: a resumable session', async () => {
    const before = await stored('multipart');
    const outcome = await run(path, [], { multipartThreshold: SIZE - 1 });
    if (outcome.result instanceof Error) throw outcome.result;
    assert.equal(outcome.sessions, 1);
    assert.equal(await stored('multipart'), before);
  });

  it('a stream, however small: a resumable session (its size is not known in advance)', async () => {
    const outcome = await run(Readable.from([data]), []);
    if (outcome.result instanceof Error) throw outcome.result;
    assert.equal(outcome.sessions, 1);
  });

  it('a threshold that is not a whole number of bytes is refused before any request', async () => {
    await assert.rejects(
      createUpload(path, 'gs://test-bucket/never', {
        ...testOptions(spool.url),
        multipartThreshold: -1,
      }),
      (e: Error) =>
        e instanceof InvalidOptionsError &&
        /multipartThreshold must be a whole number/.test(e.message),
    );
  });
});

describe('a multipart upload sent again', () => {
  for (const instructions of [
    ['return-503'],
    ['return-reset-connection'],
    ['return-408', 'return-500'],
    ['return-503-after-256K'],
  ]) {
    it(`${JSON.stringify(instructions)}: retried whole, byte-identical`, async () => {
      const outcome = await run(path, instructions, { preconditions: { ifGenerationMatch: '0' } });
      if (outcome.result instanceof Error) throw outcome.result;
      assert.equal(outcome.retries.length, instructions.length);
      assert.equal(outcome.completed, true);
      assert.equal(md5Base64(await readObject(spool.url, outcome.name)), md5Base64(data));
    });
  }

  it('the answer lost after the object was created, ifGenerationMatch=0: the 412 of the retry is checked, and the upload succeeds with that object', async () => {
    const outcome = await run(path, ['return-broken-stream-final-chunk-after-10B'], {
      preconditions: { ifGenerationMatch: '0' },
    });
    if (outcome.result instanceof Error) throw outcome.result;
    assert.equal(outcome.retries.length, 1);
    assert.equal(outcome.completed, true);
    // The object the client returns is the one the first request created, still the only one.
    const meta = await objectMetadata(outcome.name);
    assert.equal(outcome.result.generation, meta.generation);
    assert.equal(meta.crc32c, outcome.result.crc32c);
    assert.equal(md5Base64(await readObject(spool.url, outcome.name)), md5Base64(data));
  });

  it('the answer lost, no preconditions: sent again, the object holds the same bytes', async () => {
    const outcome = await run(path, ['return-broken-stream-final-chunk-after-0B']);
    if (outcome.result instanceof Error) throw outcome.result;
    assert.equal(outcome.retries.length, 1);
    assert.equal(md5Base64(await readObject(spool.url, outcome.name)), md5Base64(data));
  });

  for (const [instructions, when] of [
    [[], 'on the first request: not retried'],
    [['return-503'], 'on a retry, with another object there: not taken for success'],
  ] as const) {
    it(`a 412 ${when}, a clear error, the object there untouched`, async () => {
      const first = await run(path, []);
      if (first.result instanceof Error) throw first.result;
      const outcome = await run(
        new Uint8Array(randomData(SIZE)),
        [...instructions],
        { preconditions: { ifGenerationMatch: '0' } },
        first.name,
      );
      if (!(outcome.result instanceof HttpError)) {
        assert.fail(
          `expected a 412 HttpError, got ${outcome.result instanceof Error ? outcome.result.message : 'an object'}`,
        );
      }
      assert.equal(outcome.result.status, 412);
      assert.match(
        outcome.result.message,
        /The server answered 412 when uploading gs:\/\/test-bucket\//,
      );
      assert.equal(outcome.retries.length, instructions.length);
      assert.equal((await objectMetadata(first.name)).generation, first.result.generation);
      assert.equal(md5Base64(await readObject(spool.url, first.name)), md5Base64(data));
    });
  }
});
