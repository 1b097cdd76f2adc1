// SIGKILL of the server at many points of uploads, restart on the same data directory: every
// byte acknowledged before a kill is still reported afterwards, and the object is byte-identical.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  CHUNK,
  MiB,
  download,
  initiate,
  putChunk,
  query,
  randomData,
  storedBytes,
} from './harness/gcs.js';
import { startChunk } from './harness/http.js';
import { Random } from './harness/random.js';
import { SpoolProcess } from './harness/spool-process.js';

const bucket = 'test-bucket';
let spool: SpoolProcess | undefined;
after(async () => spool?.stop());

const restart = async () => {
  spool = await spool!.restart();
  return spool.url;
};

describe('SIGKILL during uploads', () => {
  for (const seed of [1, 2, 3]) {
    it(`multi-chunk upload killed between chunks, mid-chunk and while finalizing (seed ${seed})`, async (t) => {
      const rng = new Random(seed);
      const random = () => rng.next();
      spool = await SpoolProcess.start();
      const data = randomData(12 * MiB + 4321);
      const name = `crash/seed-${seed}.bin`;
      let uri = await initiate(spool.url, bucket, name);
      const chunk = 4 * CHUNK;
      let acked = 0;
      let kills = 0;
      let done = false;
      while (!done) {
        const end = Math.min(acked + chunk, data.length);
        const final = end === data.length;
        const body = data.subarray(acked, end);
        const total = final ? String(data.length) : '*';
        const roll = random();
        if (roll < 0.25 && kills < 6) {
          // Kill in the middle of the chunk's body.
          const socket = await startChunk(
            uri,
            acked,
            body,
            total,
            Math.floor(random() * body.length),
          );
          await new Promise((r) => setTimeout(r, 20 + random() * 80));
          uri = uri.replace(/^http:\/\/[^/]+/, await restart());
          socket.destroy();
          kills++;
        } else if (roll < 0.4 && kills < 6) {
          // Kill right after the whole chunk was sent, racing the server's answer.
          const socket = await startChunk(uri, acked, body, total, body.length);
          await new Promise((r) => setTimeout(r, random() * 15));
          uri = uri.replace(/^http:\/\/[^/]+/, await restart());
          socket.destroy();
          kills++;
        } else {
          const res = await putChunk(uri, `bytes ${acked}-${end - 1}/${total}`, body);
          if (res.status === 200) {
            done = true;
            break;
          }
          assert.equal(res.status, 308, res.text());
          acked = storedBytes(res);
          if (random() < 0.2 && kills < 6) {
            uri = uri.replace(/^http:\/\/[^/]+/, await restart());
            kills++;
          }
          continue;
        }
        const status = await query(uri);
        if (status.status === 200) {
          done = true;
          break;
        }
        assert.equal(status.status, 308, status.text());
        const stored = storedBytes(status);
        assert.ok(
          stored >= acked,
          `after a kill the server reports ${stored} bytes, but ${acked} were acknowledged`,
        );
        assert.ok(stored <= data.length);
        acked = stored;
      }
      const back = await download(spool.url, bucket, name);
      assert.equal(back.status, 200);
      assert.ok(back.body.equals(data), 'object is byte-identical');
      assert.ok(kills > 0, 'the seed must lead to at least one kill');
      t.diagnostic(`${kills} SIGKILLs survived`);
      await spool.stop();
      spool = undefined;
    });
  }

  it('a long single request keeps checkpoints: a kill mid-stream loses at most the last two 8 MiB steps', async () => {
    spool = await SpoolProcess.start();
    const data = randomData(200 * MiB);
    const uri = await initiate(spool.url, bucket, 'crash/single.bin');
    const sent = 150 * MiB;
    const socket = await startChunk(uri, 0, data, String(data.length), sent);
    await new Promise((r) => setTimeout(r, 500));
    const url = await restart();
    socket.destroy();
    const resumeUri = uri.replace(/^http:\/\/[^/]+/, url);
    const status = await query(resumeUri);
    const stored = storedBytes(status);
    assert.ok(
      stored >= 134 * MiB,
      `expected the 8 MiB checkpoints up to at least 134 MiB of the 150 sent to survive; found ${stored}`,
    );
    assert.equal(stored % CHUNK, 0);
    const rest = await putChunk(
      resumeUri,
      `bytes ${stored}-${data.length - 1}/${data.length}`,
      data.subarray(stored),
    );
    assert.equal(rest.status, 200);
    const back = await download(spool.url, bucket, 'crash/single.bin');
    assert.ok(back.body.equals(data));
    await spool.stop();
    spool = undefined;
  });
});
