// Three `spool serve` processes on one PostgreSQL and one S3 bucket (Ceph RGW), behind a
// round-robin TCP balancer with no stickiness: any node serves any request.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { IdempotencyStrategy, Storage } from '@google-cloud/storage';
import { freshDatabase, s3Env, TestBucket } from './harness/backends.js';
import { Balancer } from './harness/balancer.js';
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
import { SpoolProcess } from './harness/spool-process.js';

const bucketName = 'test-bucket';
let database: Awaited<ReturnType<typeof freshDatabase>>;
let s3: TestBucket;
let nodes: SpoolProcess[];
let balancer: Balancer;
let storage: Storage;
/** The nodes' working directory and TMPDIR, watched: nothing may appear in them. */
let nodeCwd: string;
let nodeTmp: string;
let files: string;

const startNode = () =>
  SpoolProcess.start({
    storage: { metadata: database.url, blobs: `s3://${s3.name}/spool` },
    cwd: nodeCwd,
    env: { ...s3Env(), TMPDIR: nodeTmp },
    args: ['--fault-injection'],
  });

before(async () => {
  database = await freshDatabase();
  s3 = await TestBucket.create();
  nodeCwd = await mkdtemp(join(tmpdir(), 'spool-node-cwd-'));
  nodeTmp = await mkdtemp(join(tmpdir(), 'spool-node-tmp-'));
  files = await mkdtemp(join(tmpdir(), 'spool-scale-'));
  // Started together: they migrate the empty database at the same time.
  nodes = await Promise.all([startNode(), startNode(), startNode()]);
  balancer = await Balancer.start(nodes.map((n) => n.url));
  // Retries on: by default the client retries an upload only with a generation precondition.
  storage = new Storage({
    apiEndpoint: balancer.url,
    projectId: 'spool-test',
    retryOptions: {
      idempotencyStrategy: IdempotencyStrategy.RetryAlways,
      maxRetries: 8,
      retryDelayMultiplier: 1.2,
    },
  });
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await balancer.close();
  await s3.remove();
  await database.drop();
  for (const dir of [nodeCwd, nodeTmp, files]) await rm(dir, { recursive: true, force: true });
});

async function fileOf(name: string, data: Buffer): Promise<string> {
  const path = join(files, name);
  await writeFile(path, data);
  return path;
}

/** The object as every node serves it, and as the balancer does. */
async function assertEverywhere(name: string, data: Buffer): Promise<void> {
  for (const base of [...nodes.map((n) => n.url), balancer.url]) {
    const res = await download(base, bucketName, name);
    assert.equal(res.status, 200, `${base}: ${res.text().slice(0, 200)}`);
    assert.ok(res.body.equals(data), `${base} serves different bytes for ${name}`);
  }
}

describe('three nodes behind a round-robin balancer', () => {
  it('@google-cloud/storage: bucket.upload of a file in one request', async () => {
    // No cut here: in this mode the client cannot resend bytes it streamed before a cut, so it
    // stops with a RangeError (against GCS too). The chunked tests below cut connections.
    const data = randomData(24 * MiB + 333);
    await storage.bucket(bucketName).upload(await fileOf('single.bin', data), {
      destination: 'scale/single.bin',
      resumable: true,
    });
    await assertEverywhere('scale/single.bin', data);
  });

  // The cuts land in chunk bodies. @google-cloud/storage v7 cannot survive a cut of its status
  // query: it then restarts from offset 0 and stops with a RangeError (whatever the server).
  it('@google-cloud/storage: bucket.upload of a file in chunks, cut three times', async () => {
    const data = randomData(21 * MiB + 5);
    const cuts = balancer.cutsMade;
    balancer.cutAfter(3 * MiB + 1000);
    balancer.cutAfter(2 * MiB);
    balancer.cutAfter(5 * MiB);
    await storage.bucket(bucketName).upload(await fileOf('chunked.bin', data), {
      destination: 'scale/chunked.bin',
      resumable: true,
      chunkSize: 4 * MiB,
    });
    assert.equal(balancer.cutsMade - cuts, 3);
    await assertEverywhere('scale/chunked.bin', data);
  });

  it('@google-cloud/storage: createWriteStream from a stream, in chunks, cut twice', async () => {
    const data = randomData(13 * MiB + 77);
    const cuts = balancer.cutsMade;
    balancer.cutAfter(5 * MiB);
    balancer.cutAfter(MiB);
    const file = storage.bucket(bucketName).file('scale/stream.bin');
    const pieces = Array.from({ length: 14 }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB));
    await pipeline(
      Readable.from(pieces),
      file.createWriteStream({ resumable: true, chunkSize: 3 * MiB }),
    );
    assert.equal(balancer.cutsMade - cuts, 2);
    await assertEverywhere('scale/stream.bin', data);
  });

  it('@google-cloud/storage: one-request uploads and compose, read back through every node', async () => {
    const bucket = storage.bucket(bucketName);
    const small = randomData(300 * 1024 + 7);
    // Not resumable: one multipart/related request, written to S3 in one go.
    await bucket.upload(await fileOf('small.bin', small), {
      destination: 'scale/small.bin',
      resumable: false,
    });
    await assertEverywhere('scale/small.bin', small);
    const big = randomData(9 * MiB + 1);
    await bucket.upload(await fileOf('one-request.bin', big), {
      destination: 'scale/one-request.bin',
      resumable: false,
    });
    await assertEverywhere('scale/one-request.bin', big);
    await bucket.combine(['scale/small.bin', 'scale/one-request.bin'], 'scale/composed.bin');
    await assertEverywhere('scale/composed.bin', Buffer.concat([small, big]));
    await bucket.file('scale/empty-one-request.bin').save(Buffer.alloc(0), { resumable: false });
    await assertEverywhere('scale/empty-one-request.bin', Buffer.alloc(0));
    const uri = await initiate(balancer.url, bucketName, 'scale/empty-resumable.bin');
    assert.equal((await putChunk(uri, 'bytes */0', Buffer.alloc(0))).status, 200);
    await assertEverywhere('scale/empty-resumable.bin', Buffer.alloc(0));
  });

  it('raw protocol: a file in one request, cut twice, resumed through other nodes', async () => {
    const data = randomData(20 * MiB + 1);
    const uri = await initiate(balancer.url, bucketName, 'scale/raw-single.bin');
    const cuts = [6 * MiB, 5 * MiB];
    let offset = 0;
    while (true) {
      const cut = cuts.shift();
      if (cut !== undefined) balancer.cutAfter(cut);
      const range = `bytes ${offset}-${data.length - 1}/${data.length}`;
      const res = await putChunk(uri, range, data.subarray(offset)).catch(() => undefined);
      if (res?.status === 200) break;
      assert.equal(res, undefined, 'only a cut request fails');
      const status = await query(uri);
      assert.equal(status.status, 308, status.text());
      // The aligned prefix of what arrived before the cut is kept.
      assert.ok(storedBytes(status) > offset, `no progress kept after a cut at ${offset}`);
      offset = storedBytes(status);
    }
    assert.equal(cuts.length, 0);
    await assertEverywhere('scale/raw-single.bin', data);
  });

  it('raw protocol: chunks of a stream, each on the next node, some cut', async () => {
    const data = randomData(11 * MiB + 12345);
    const uri = await initiate(balancer.url, bucketName, 'scale/raw-chunks.bin');
    const served = [...balancer.served];
    let acked = 0;
    let round = 0;
    while (true) {
      const end = Math.min(acked + 3 * CHUNK, data.length);
      const total = end === data.length ? String(data.length) : '*';
      if (round++ % 3 === 1) balancer.cutAfter(500 + round * 1000);
      const res = await putChunk(
        uri,
        `bytes ${acked}-${end - 1}/${total}`,
        data.subarray(acked, end),
      ).catch(() => undefined);
      if (res?.status === 200) break;
      const status = res ?? (await query(uri));
      assert.equal(status.status, 308, status.text());
      assert.ok(storedBytes(status) >= acked, 'the server went back');
      acked = storedBytes(status);
    }
    assert.ok(
      balancer.served.every((n, i) => n > served[i]!),
      `every node served some of the chunks: ${balancer.served.join(', ')}`,
    );
    await assertEverywhere('scale/raw-chunks.bin', data);
  });

  it('an injected stop keeps an unaligned offset, and another node goes on from it', async () => {
    const data = randomData(10 * MiB + 3);
    const uri = await initiate(balancer.url, bucketName, 'scale/unaligned.bin');
    const stopped = await putChunk(uri, `bytes 0-${data.length - 1}/${data.length}`, data, {
      'x-goog-emulator-instructions': 'return-503-after-8500K',
    });
    assert.equal(stopped.status, 503, stopped.text());
    const status = await query(uri);
    assert.equal(storedBytes(status), 8500 * 1024, 'every byte up to the offset is kept');
    const rest = `bytes ${8500 * 1024}-${data.length - 1}/${data.length}`;
    const done = await putChunk(uri, rest, data.subarray(8500 * 1024));
    assert.equal(done.status, 200, done.text());
    await assertEverywhere('scale/unaligned.bin', data);
  });

  it('a newer request on one node makes a stale request on another node let go', async () => {
    const data = randomData(4 * MiB);
    const [a, b] = [nodes[0]!, nodes[1]!];
    const uri = await initiate(a.url, bucketName, 'scale/stale.bin');
    const onNode = (node: SpoolProcess) => uri.replace(/^http:\/\/[^/]+/, node.url);
    // A client sends 3 MiB of a 4 MiB chunk to node A, then goes silent with the connection
    // open, as when its network died: node A holds the session.
    const stale = await startChunk(onNode(a), 0, data, String(data.length), 3 * MiB);
    const answer = firstAnswer(stale);
    await new Promise((r) => setTimeout(r, 500));
    // The client's status query reaches node B and gets an answer: A stopped, kept the aligned
    // prefix of what it had, said so, and let go.
    const status = await query(onNode(b));
    assert.equal(status.status, 308, status.text());
    const stored = storedBytes(status);
    assert.ok(stored > 0 && stored <= 3 * MiB && stored % CHUNK === 0, `stored ${stored}`);
    assert.match(await answer, new RegExp(`^HTTP/1.1 503 [^]*newer request[^]* ${stored} byte`));
    stale.destroy();
    const rest = `bytes ${stored}-${data.length - 1}/${data.length}`;
    const done = await putChunk(onNode(b), rest, data.subarray(stored));
    assert.equal(done.status, 200, done.text());
    await assertEverywhere('scale/stale.bin', data);
  });

  it('a node SIGKILLed in the middle of uploads: the others carry on, nothing acknowledged is lost', async () => {
    const victim = 1;
    const uploads = [0, 1, 2, 3].map((i) => ({
      name: `scale/kill-${i}.bin`,
      data: randomData(10 * MiB + i * 1000),
      uri: '',
      acked: 0,
    }));
    for (const u of uploads) u.uri = await initiate(balancer.url, bucketName, u.name);
    const ackedAtKill: number[] = [];

    // Each upload sends 1 MiB chunks, each on a new connection, so on the next node in turn;
    // after a failure it asks for the status and goes on from there. Every Range the server
    // gives must cover everything it acknowledged before.
    const send = async (u: (typeof uploads)[number]) => {
      while (true) {
        const end = Math.min(u.acked + 4 * CHUNK, u.data.length);
        const total = end === u.data.length ? String(u.data.length) : '*';
        const body = u.data.subarray(u.acked, end);
        let res = await putChunk(u.uri, `bytes ${u.acked}-${end - 1}/${total}`, body).catch(
          () => undefined,
        );
        if (res?.status === 200) return;
        // A status query cut by the kill is asked again, as any client would.
        while (res?.status !== 308) {
          res = await query(u.uri).catch(() => undefined);
          if (res?.status === 200) return;
        }
        const stored = storedBytes(res);
        assert.ok(
          stored >= u.acked,
          `${u.name}: ${stored} bytes reported after ${u.acked} were acknowledged`,
        );
        u.acked = stored;
      }
    };
    // The first upload is in the middle of a chunk on the victim when it dies.
    const inFlight = uploads[0]!;
    const sending = Promise.all(uploads.slice(1).map((u) => send(u)));
    const held = await startChunk(
      inFlight.uri.replace(/^http:\/\/[^/]+/, nodes[victim]!.url),
      0,
      inFlight.data.subarray(0, 8 * CHUNK),
      '*',
      5 * CHUNK,
    );
    // Kill once the others are well under way (or done: then the kill finds no request).
    const underWay = (async () => {
      while (uploads.slice(1).some((u) => u.acked < 3 * MiB))
        await new Promise((r) => setTimeout(r, 20));
    })();
    await Promise.race([underWay, sending]);
    for (const u of uploads) ackedAtKill.push(u.acked);
    await nodes[victim]!.kill();
    held.destroy();
    await Promise.all([send(inFlight), sending]);
    for (const [i, u] of uploads.entries()) assert.ok(u.acked >= ackedAtKill[i]!);

    // The killed node comes back (on a new port); the balancer sends it traffic again.
    nodes[victim] = await startNode();
    balancer.setTarget(victim, nodes[victim].url);
    for (const u of uploads) await assertEverywhere(u.name, u.data);
  });

  it('no node wrote to its working directory or its TMPDIR', async () => {
    assert.deepEqual(await readdir(nodeCwd), []);
    assert.deepEqual(await readdir(nodeTmp), []);
  });

  it('S3 holds the objects and nothing else once the uploads are done', async () => {
    assert.equal(balancer.pendingCuts, 0);
    const [listed] = await storage.bucket(bucketName).getFiles();
    const keys = await s3.keys();
    assert.equal(keys.length, listed.length, `S3 keys:\n${keys.join('\n')}`);
    assert.ok(
      keys.every((k) => /^spool\/objects\/[0-9a-f]{32}$/.test(k)),
      keys.join('\n'),
    );
    assert.deepEqual(await s3.uploads(), []);
  });
});

/** The first HTTP answer that arrives on a raw socket. */
function firstAnswer(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (/\r\n\r\n/.test(text)) setTimeout(() => resolve(text), 50);
    });
    socket.on('close', () => resolve(text));
  });
}
