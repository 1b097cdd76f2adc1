// The data directory on a small filesystem that fills up in the middle of an upload: the writer
// gets a retryable 503 that says so, nothing acknowledged is lost (across a SIGKILL too), reads
// keep working, and uploads finish once space is freed.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createUpload } from '@spool/client/node';
import { auditDataDir, auditProblems } from '../harness/data-dir.js';
import {
  MiB,
  download,
  initiate,
  initiateRaw,
  putChunk,
  query,
  storedBytes,
} from '../harness/gcs.js';
import { messageOf, send, type RawResponse } from '../harness/http.js';
import { SmallFs } from '../harness/small-fs.js';
import { SpoolProcess } from '../harness/spool-process.js';
import { loggedErrors, type PhaseContext, type PhaseResult } from './phase.js';
import { BUCKET } from './uploads.js';

const FULL = /out of storage space.*Retry later/;

export async function fullDisk(ctx: PhaseContext): Promise<PhaseResult> {
  const { random, log } = ctx;
  const violations: string[] = [];
  const figures: Record<string, number | string> = {};
  const fs = await SmallFs.mount(40);
  let spool: SpoolProcess | undefined;
  const expect = (ok: boolean, what: string) => {
    if (!ok) violations.push(what);
  };
  const answer = (res: RawResponse) => `${res.status} ${messageOf(res).slice(0, 300)}`;
  try {
    spool = await SpoolProcess.start({ dataDir: join(fs.path, 'data'), buckets: [BUCKET] });
    const kept = random.bytes(MiB + 7);
    const keptUri = await initiate(spool.url, BUCKET, 'kept.bin');
    expect((await putChunk(keptUri, undefined, kept)).status === 200, 'storing kept.bin');
    const readsWork = async (when: string) => {
      const res = await download(spool!.url, BUCKET, 'kept.bin');
      expect(
        res.status === 200 && res.body.equals(kept),
        `${when}: reading kept.bin gave ${res.status}`,
      );
      const list = await send({ method: 'GET', url: `${spool!.url}/storage/v1/b/${BUCKET}/o` });
      expect(list.status === 200, `${when}: listing gave ${answer(list)}`);
    };

    // An upload acknowledged up to 1 MiB, then a chunk larger than the space left.
    await fs.fillLeaving(3 * MiB);
    const data = random.bytes(9 * MiB);
    const uri = await initiate(spool.url, BUCKET, 'filling.bin');
    const first = await putChunk(uri, `bytes 0-${MiB - 1}/*`, data.subarray(0, MiB));
    expect(first.status === 308 && storedBytes(first) === MiB, `first MiB: ${answer(first)}`);
    const full = await putChunk(uri, `bytes ${MiB}-${9 * MiB - 1}/*`, data.subarray(MiB, 9 * MiB));
    figures['answer when full'] = `${full.status}`;
    expect(
      full.status === 503 && FULL.test(messageOf(full)),
      `a chunk past the free space: ${answer(full)}`,
    );
    const freeAfter = await fs.free();
    figures['free after the 503'] = freeAfter;
    expect(
      freeAfter >= MiB,
      `the bytes never acknowledged still take the space: ${freeAfter} free`,
    );
    const status = await query(uri);
    expect(
      storedBytes(status) === MiB,
      `after the 503 the session has ${answer(status)}, not 1 MiB`,
    );
    await readsWork('disk full');
    const starting = await initiateRaw(spool.url, BUCKET, 'while-full.bin');
    figures['a new session while full'] = starting.status;
    expect(
      starting.status === 200 || (starting.status === 503 && FULL.test(messageOf(starting))),
      `starting a session while full: ${answer(starting)}`,
    );

    // A SIGKILL while the disk is full: the server starts again, and has what it acknowledged.
    spool = await spool.restart();
    const after = await query(uri.replace(/^http:\/\/[^/]+/, spool.url));
    expect(storedBytes(after) === MiB, `after a restart on a full disk: ${answer(after)}`);
    await readsWork('restarted on a full disk');

    // The client meets the full disk, retries, and finishes once the ballast is gone.
    const fileData = random.bytes(6 * MiB + 5);
    const task = await createUpload(new Uint8Array(fileData), `gs://${BUCKET}/client.bin`, {
      endpoint: spool.url,
      stateStore: null,
      chunkSize: MiB,
      retry: { initialDelay: 50, maxDelay: 500, retries: 20 },
    });
    let retries = 0;
    let acknowledged = 0;
    task.on('progress', (p) => {
      expect(p.acknowledged >= acknowledged, `the client's acknowledged bytes went back`);
      acknowledged = p.acknowledged;
    });
    let freed: Promise<void> | undefined;
    task.on('retry', ({ error }) => {
      retries++;
      expect(FULL.test(error.message), `the client retried after: ${error.message}`);
      freed ??= fs.removeBallast();
    });
    const object = await task.start();
    await freed;
    figures['client retries while full'] = retries;
    expect(retries > 0, 'the client never met the full disk');
    expect(object.size === String(fileData.length), `the client's object has ${object.size} bytes`);
    const back = await download(spool.url, BUCKET, 'client.bin');
    expect(back.body.equals(fileData), 'client.bin is not what was sent');

    // The first upload goes on from what was acknowledged.
    const sessionUri = uri.replace(/^http:\/\/[^/]+/, spool.url);
    const rest = await putChunk(
      sessionUri,
      `bytes ${MiB}-${data.length - 1}/${data.length}`,
      data.subarray(MiB),
    );
    expect(rest.status === 200, `finishing the first upload: ${answer(rest)}`);
    const filled = await download(spool.url, BUCKET, 'filling.bin');
    expect(
      filled.status === 200 &&
        createHash('md5').update(filled.body).digest('hex') ===
          createHash('md5').update(data).digest('hex'),
      `filling.bin after space was freed: ${filled.status}`,
    );
    await readsWork('space freed');
    violations.push(...loggedErrors(spool.errors(), 'server'));
    spool = await spool.restart();
    const audit = await auditDataDir(spool.dataDir);
    violations.push(...auditProblems(audit));
    figures['orphans'] = audit.orphans.length;
    log(`full disk: ${JSON.stringify(figures)}`);
  } finally {
    await spool?.stop();
    await fs.unmount();
  }
  return { figures, violations };
}
