// A 256 MiB upload while a TCP proxy cuts the connection at random byte offsets, at least 20
// times: the object is byte-identical, and the client never sends a byte the server already had.
//
// At each cut the proxy holds all traffic while the test asks the server what it kept (R). What
// was "in flight" at the cut is what the client had put on the wire past R. A client that resumes
// exactly at R after every cut sends the object once plus what was in flight at each cut; any
// byte sent again that the server had already kept makes the total larger, and the test fail.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createUpload, type RetryEvent } from '@spool/client/node';
import { MiB, query, storedBytes } from './harness/gcs.js';
import { objectMd5, scratchDir, testOptions } from './harness/client.js';
import { Random, seededContent } from './harness/random.js';
import { SpoolProcess } from './harness/spool-process.js';
import { TcpProxy, type Cut } from './harness/tcp-proxy.js';
import { join } from 'node:path';

const SIZE = 256 * MiB;
const CUTS = 24;
const dir = await scratchDir();
let spool: SpoolProcess;

before(async () => {
  spool = await SpoolProcess.start();
});
after(async () => spool.stop());

/** Seeded cut points in the bytes going to the server, all before the object is through. */
function cutPoints(seed: number): number[] {
  const random = new Random(seed);
  return Array.from({ length: CUTS }, () => MiB + Math.floor(random.next() * (SIZE - 2 * MiB)));
}

interface Figures {
  cuts: number;
  objectSize: number;
  bodyBytesSent: number;
  inFlightAtCuts: number;
  rawBytesSent: number;
  retries: number;
}

async function uploadThroughCuts(
  source: () => Parameters<typeof createUpload>[0],
  chunkSize: number | undefined,
  name: string,
  seed: number,
): Promise<Figures & { md5: string }> {
  const proxy = await TcpProxy.start(spool.url);
  try {
    let sessionUri: string | undefined;
    let inFlight = 0;
    proxy.cutAt(cutPoints(seed), async (cut: Cut) => {
      // The session as the server itself is reached; the client sees the proxy's address.
      const kept = storedBytes(await query(sessionUri!.replace(proxy.url, spool.url)));
      inFlight += Math.max(0, (cut.wireOffset ?? 0) - kept);
    });
    const retries: RetryEvent[] = [];
    const task = await createUpload(source(), `gs://test-bucket/${name}`, {
      ...testOptions(proxy.url),
      chunkSize,
      // Cut points are random, so several can fall within what a slow server has not yet stored
      // (a loaded CI machine: six within 8 MiB for seed 11): each of those attempts fails without
      // progress. The budget must cover every failure the test injects.
      retry: { initialDelay: 5, maxDelay: 50, retries: CUTS },
    });
    task.on('session', (s) => (sessionUri = s.uri));
    task.on('retry', (r) => retries.push(r));
    const object = await task.start();
    assert.equal(object.size, String(SIZE));
    return {
      md5: object.md5Hash!,
      cuts: proxy.cuts.length,
      objectSize: SIZE,
      bodyBytesSent: proxy.bodyBytesUp,
      inFlightAtCuts: inFlight,
      rawBytesSent: proxy.bytesUp,
      retries: retries.length,
    };
  } finally {
    await proxy.close();
  }
}

function md5Of(chunks: Iterable<Buffer>): string {
  const hash = createHash('md5');
  for (const c of chunks) hash.update(c);
  return hash.digest('base64');
}

describe('a 256 MiB upload through a connection cut at random offsets', () => {
  it('from a file in one streaming request: identical, and nothing resent but what was in flight', async () => {
    const path = join(dir, 'cut.bin');
    await pipeline(Readable.from(seededContent(1, SIZE)), createWriteStream(path));
    const figures = await uploadThroughCuts(() => path, undefined, 'cuts/file.bin', 11);
    console.log(`file figures: ${JSON.stringify(figures)}`);
    assert.ok(figures.cuts >= 20, `${figures.cuts} cuts`);
    assert.equal(figures.md5, md5Of(seededContent(1, SIZE)), 'the server has the file');
    assert.ok(
      figures.bodyBytesSent <= figures.objectSize + figures.inFlightAtCuts,
      `sent ${figures.bodyBytesSent} bytes; the object is ${figures.objectSize} and ${figures.inFlightAtCuts} were in flight at the cuts`,
    );
    assert.equal(await objectMd5(spool.url, 'cuts/file.bin'), figures.md5);
  });

  it('from a stream in 8 MiB chunks: identical, and at most one chunk resent per cut', async () => {
    const chunk = 8 * MiB;
    const figures = await uploadThroughCuts(
      () => Readable.from(seededContent(2, SIZE)),
      chunk,
      'cuts/stream.bin',
      22,
    );
    console.log(`stream figures: ${JSON.stringify(figures)}`);
    assert.ok(figures.cuts >= 20, `${figures.cuts} cuts`);
    assert.equal(figures.md5, md5Of(seededContent(2, SIZE)));
    assert.ok(
      figures.bodyBytesSent <= figures.objectSize + figures.cuts * chunk,
      `sent ${figures.bodyBytesSent} bytes for ${figures.objectSize} with ${figures.cuts} cuts`,
    );
    assert.ok(figures.bodyBytesSent <= figures.objectSize + figures.inFlightAtCuts);
    assert.equal(await objectMd5(spool.url, 'cuts/stream.bin'), figures.md5);
  });
});
