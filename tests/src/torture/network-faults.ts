// Concurrent uploads of every shape through a network that resets, truncates, delays and stalls
// at random in both directions: every upload ends with its object, byte-identical.
import { auditDataDir, auditProblems } from '../harness/data-dir.js';
import { SpoolProcess } from '../harness/spool-process.js';
import { TcpProxy } from '../harness/tcp-proxy.js';
import { loggedErrors, type PhaseContext, type PhaseResult } from './phase.js';
import {
  BUCKET,
  Ledger,
  oneRequestUpload,
  randomSpec,
  runUpload,
  verifyBucket,
  type Acknowledgement,
} from './uploads.js';

export interface NetworkFaultOptions {
  /** How long uploads keep starting, in ms. */
  readonly durationMs: number;
  readonly concurrency: number;
  readonly maxSize: number;
}

export async function networkFaults(
  ctx: PhaseContext,
  options: NetworkFaultOptions,
): Promise<PhaseResult> {
  const { random, log } = ctx;
  const violations: string[] = [];
  const ledger = new Ledger();
  const names = Array.from({ length: options.concurrency * 2 }, (_, i) => `network/object-${i}`);
  let spool = await SpoolProcess.start({ buckets: [BUCKET], args: ['--session-rate', '0'] });
  const proxy = await TcpProxy.start(spool.url);
  // Each piece of data (up to 64 KiB) has a small chance of a fault; answers are a piece or two.
  proxy.chaos({ random: random.fork(), up: 0.004, down: 0.03, maxDelayMs: 50, maxStallMs: 4000 });
  const figures = { uploads: 0, oneRequestUploads: 0, uploadBytes: 0 };
  const until = Date.now() + options.durationMs;

  const worker = async (id: number) => {
    const own = random.fork();
    while (Date.now() < until) {
      const spec = randomSpec(own, names, options.maxSize);
      try {
        if (own.chance(0.1)) {
          const type = own.chance(0.5) ? 'media' : 'multipart';
          ledger.record(spec.name, await oneRequestUpload(() => proxy.url, spec, type), [spec]);
          figures.oneRequestUploads++;
        } else {
          const seen: Acknowledgement = { uri: undefined, acknowledged: 0 };
          const outcome = await runUpload(spec, proxy.url, own, ctx.scratch, seen, {
            // Some stalls never end: the client must notice and go on.
            stallTimeout: 2000,
            retry: { initialDelay: 10, maxDelay: 200, retries: 50 },
          });
          ledger.record(spec.name, outcome.generation, [spec]);
          figures.uploads++;
        }
        figures.uploadBytes += spec.size;
      } catch (error) {
        violations.push(
          `worker ${id}, ${spec.kind} of ${spec.size} bytes (chunks ${spec.chunkSize ?? 'none'}) to ${spec.name}: ${String((error as Error).stack ?? error)}`,
        );
      }
    }
  };
  let ticker: NodeJS.Timeout | undefined;
  try {
    ticker = setInterval(
      () => log(`network faults: ${proxy.faultCount} faults, ${figures.uploads} uploads finished`),
      30_000,
    );
    await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  } finally {
    clearInterval(ticker);
    proxy.chaos(undefined);
    await proxy.close();
  }
  violations.push(...loggedErrors(spool.errors(), 'server'));
  const verified = await verifyBucket(spool.url, ledger);
  violations.push(...verified.problems);
  spool = await spool.restart();
  const audit = await auditDataDir(spool.dataDir);
  violations.push(...auditProblems(audit));
  await spool.stop();
  return {
    figures: {
      ...figures,
      faults: proxy.faultCount,
      ...Object.fromEntries([...proxy.faults].sort()),
      objectsVerified: verified.objects,
      bytesVerified: verified.bytes,
      orphans: audit.orphans.length,
    },
    violations,
  };
}
