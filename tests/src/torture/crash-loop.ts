// Concurrent uploads of every shape through the real client while the server is SIGKILLed at
// random moments and restarted on the same data directory. After each kill, every Range the
// clients had been told is still covered; at the end every object is byte-identical and the data
// directory holds nothing orphaned.
import { createHash } from 'node:crypto';
import { auditDataDir, auditProblems } from '../harness/data-dir.js';
import { query, storedBytes } from '../harness/gcs.js';
import { SpoolProcess } from '../harness/spool-process.js';
import { TcpProxy } from '../harness/tcp-proxy.js';
import { loggedErrors, sleep, type PhaseContext, type PhaseResult } from './phase.js';
import {
  BUCKET,
  Ledger,
  compose,
  deleteGeneration,
  oneRequestUpload,
  randomSpec,
  runUpload,
  sendUntilAnswered,
  verifyBucket,
  type Acknowledgement,
} from './uploads.js';

export interface CrashLoopOptions {
  /** SIGKILLs while uploads run (the rounds). */
  readonly kills: number;
  /** Uploads running at once. */
  readonly concurrency: number;
  readonly maxSize: number;
  /** Time between kills, at random within [min, max] ms. */
  readonly gapMs: readonly [number, number];
}

export async function crashLoop(
  ctx: PhaseContext,
  options: CrashLoopOptions,
): Promise<PhaseResult> {
  const { random, log } = ctx;
  const violations: string[] = [];
  const ledger = new Ledger();
  const names = Array.from({ length: options.concurrency * 2 }, (_, i) => `crash/object-${i}`);
  const args = ['--session-rate', '0'];
  let spool = await SpoolProcess.start({ buckets: [BUCKET], args });
  const proxy = await TcpProxy.start(spool.url);
  const inFlight = new Set<Acknowledgement>();
  const figures = {
    kills: 0,
    killsDuringStart: 0,
    acknowledgementsChecked: 0,
    uploads: 0,
    uploadBytes: 0,
    generationsVerified: 0,
    oneRequestUploads: 0,
    composes: 0,
    deletes: 0,
  };
  let stopping = false;

  const worker = async (id: number) => {
    const own = random.fork();
    while (!stopping) {
      const spec = randomSpec(own, names, options.maxSize);
      const seen: Acknowledgement = { uri: undefined, acknowledged: 0 };
      inFlight.add(seen);
      try {
        const roll = own.next();
        if (roll < 0.15) {
          // One request, without a session: media or multipart.
          const type = own.chance(0.5) ? 'media' : 'multipart';
          const generation = await oneRequestUpload(() => proxy.url, spec, type);
          ledger.record(spec.name, generation, [spec]);
          figures.oneRequestUploads++;
        } else if (roll < 0.2) {
          const sources = [own.pick(names), own.pick(names)];
          if (await compose(() => proxy.url, ledger, spec.name, sources)) figures.composes++;
        } else {
          const outcome = await runUpload(spec, proxy.url, own, ctx.scratch, seen);
          ledger.record(spec.name, outcome.generation, [spec]);
          figures.uploads++;
          figures.uploadBytes += spec.size;
          if (await sameGeneration(proxy.url, spec.name, outcome.generation, outcome.md5))
            figures.generationsVerified++;
        }
        if (own.chance(0.15)) {
          const victim = own.pick(names);
          const newest = ledger.newest(victim);
          if (newest !== undefined) {
            await deleteGeneration(() => proxy.url, ledger, victim, newest.generation);
            figures.deletes++;
          }
        }
      } catch (error) {
        violations.push(
          `worker ${id}, ${spec.kind} of ${spec.size} bytes (chunks ${spec.chunkSize ?? 'none'}) to ${spec.name}: ${String((error as Error).stack ?? error)}`,
        );
      } finally {
        inFlight.delete(seen);
      }
    }
  };

  const workers = Array.from({ length: options.concurrency }, (_, i) => worker(i));
  try {
    while (figures.kills < options.kills && violations.length === 0) {
      await sleep(random.int(options.gapMs[0], options.gapMs[1]));
      await spool.kill();
      figures.kills++;
      // Acknowledgements the clients have had so far; the server is dead, no more can come.
      const told = [...inFlight]
        .filter((s) => s.uri !== undefined && s.acknowledged > 0)
        .map((s) => ({ uri: s.uri!, acknowledged: s.acknowledged }));
      violations.push(...loggedErrors(spool.errors(), `server before kill ${figures.kills}`));
      proxy.hold();
      if (random.chance(0.15)) {
        await spool.crashDuringStart(random.int(0, 400));
        figures.killsDuringStart++;
      }
      spool = await spool.restart();
      proxy.retarget(spool.url);
      for (const { uri, acknowledged } of told) {
        const direct = uri.replace(proxy.url, spool.url);
        const status = await query(direct);
        figures.acknowledgementsChecked++;
        if (status.status === 308 && storedBytes(status) < acknowledged) {
          violations.push(
            `kill ${figures.kills}: a session acknowledged ${acknowledged} bytes, after the restart it has ${storedBytes(status)}`,
          );
        } else if (status.status !== 308 && status.status !== 200) {
          violations.push(
            `kill ${figures.kills}: a session acknowledged ${acknowledged} bytes, after the restart: ${status.status} ${status.text()}`,
          );
        }
      }
      proxy.release();
      if (figures.kills % 10 === 0)
        log(`crash loop: ${figures.kills} kills, ${figures.uploads} uploads finished`);
    }
  } finally {
    stopping = true;
    proxy.release();
    await Promise.all(workers);
  }

  // One last crash with nothing in flight, then everything must be as the ledger says.
  violations.push(...loggedErrors(spool.errors(), 'server'));
  spool = await spool.restart();
  const verified = await verifyBucket(spool.url, ledger);
  violations.push(...verified.problems);
  const audit = await auditDataDir(spool.dataDir);
  violations.push(...auditProblems(audit));
  violations.push(...loggedErrors(spool.errors(), 'server after the last restart'));
  await proxy.close();
  await spool.stop();
  return {
    figures: {
      ...figures,
      objectsVerified: verified.objects,
      bytesVerified: verified.bytes,
      sessionsLeft: audit.sessions,
      blobs: audit.blobs,
      orphans: audit.orphans.length,
      strays: audit.strays.length,
    },
    violations,
  };
}

/**
 * Whether the generation an upload created is there with the upload's bytes; false when it is
 * gone already (replaced or deleted by another upload). Different bytes throw.
 */
async function sameGeneration(
  base: string,
  name: string,
  generation: string,
  md5: string,
): Promise<boolean> {
  const res = await sendUntilAnswered(() => ({
    method: 'GET',
    url: `${base}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(name)}?alt=media&generation=${generation}`,
  }));
  if (res.status === 404) return false;
  const got = createHash('md5').update(res.body).digest('base64');
  if (res.status !== 200 || got !== md5)
    throw new Error(`generation ${generation} of ${name}: ${res.status}, MD5 ${got}, not ${md5}`);
  return true;
}
