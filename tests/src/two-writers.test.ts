// Two clients with one session URI and different bytes: the object is never a mix of the two,
// the winner's object stays, and the other writer gets a data-loss error saying why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataLossError, upload } from '@spool/client/node';
import { CHUNK, download, initiate, putChunk, query, randomData } from './harness/gcs.js';
import { testOptions } from './harness/client.js';
import { SpoolProcess } from './harness/spool-process.js';

const bucket = 'test-bucket';
let spool: SpoolProcess;
before(async () => {
  spool = await SpoolProcess.start();
});
after(async () => spool.stop());

describe('two writers on one session', () => {
  it("a writer that finds the session completed with other bytes gets a data-loss error, and the winner's object stays", async () => {
    const uri = await initiate(spool.url, bucket, 'two/completed.bin');
    const winner = randomData(3 * CHUNK + 17);
    const loser = randomData(winner.length);
    const won = await upload(winner, { sessionUri: uri }, testOptions(spool.url));
    await assert.rejects(upload(loser, { sessionUri: uri }, testOptions(spool.url)), (error) => {
      assert.ok(error instanceof DataLossError, String(error));
      assert.equal(error.scenario, 'other-writer');
      assert.match(error.message, /another client with the same session URI completed it first/);
      assert.match(error.message, new RegExp(`generation ${won.generation} was left as it is`));
      return true;
    });
    const stored = await download(spool.url, bucket, 'two/completed.bin');
    assert.equal(stored.status, 200, 'the winner keeps its object');
    assert.ok(stored.body.equals(winner));
  });

  it("a session holding another writer's bytes is refused by the final hashes: a data-loss error, and no object", async () => {
    const uri = await initiate(spool.url, bucket, 'two/mixed.bin');
    const first = randomData(4 * CHUNK);
    const second = randomData(first.length);
    // The first writer got half its bytes in, then went quiet; the second resumes after them.
    assert.equal(
      (await putChunk(uri, `bytes 0-${2 * CHUNK - 1}/*`, first.subarray(0, 2 * CHUNK))).status,
      308,
    );
    await assert.rejects(upload(second, { sessionUri: uri }, testOptions(spool.url)), (error) => {
      assert.ok(error instanceof DataLossError, String(error));
      assert.equal(error.scenario, 'hash-mismatch');
      assert.match(
        error.message,
        /the bytes it holds for this session are not the ones this client sent/,
      );
      assert.match(error.message, /Provided CRC32C "[^"]+" doesn't match calculated CRC32C/);
      return true;
    });
    assert.equal((await download(spool.url, bucket, 'two/mixed.bin')).status, 404);
    assert.equal((await query(uri)).status, 400, 'the session is failed for good');
  });
});
