// 200 uploads of 8 MiB at once into one `spool serve`: their aggregate throughput (against
// scenario 1's single upload), the latency of status queries to other sessions meanwhile, and
// the server's peak resident memory. A fresh server each round, so that its peak is this round's.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MiB, median, memory, mibPerSecond, run, startSpool } from '../lib/common.mjs';

const COUNT = 200;
const BYTES = 8 * MiB;

export default {
  id: '4',
  title: '200 concurrent 8 MiB uploads',
  async run(ctx) {
    const rounds = [];
    for (let round = 0; round < ctx.rounds; round++) {
      const dataDir = join(ctx.work, `s4-${round}`);
      const spool = await startSpool(dataDir);
      try {
        const prober = await startProber(ctx, spool.url);
        const { stdout } = await run(process.execPath, [
          join(ctx.root, 'bench/lib/many-uploads.mjs'),
          'spool-resumable',
          spool.url,
          String(COUNT),
          String(BYTES),
          String(COUNT),
        ]);
        const result = { ...JSON.parse(stdout), ...(await prober.stop()) };
        result.mibps = mibPerSecond(COUNT * BYTES, result.ms);
        result.serverPeakMiB = memory(spool.pid).peakMiB;
        ctx.log(`  round ${round + 1}: ${JSON.stringify(result)}`);
        rounds.push(result);
      } finally {
        await spool.stop();
        // The next round and scenario write on a disk without these 1.6 GB.
        await rm(dataDir, { recursive: true, force: true });
      }
    }
    const aggregate = median(rounds.map((r) => r.mibps));
    const single = ctx.shared.scenario1SpoolMiBps;
    return [
      {
        measure: 'aggregate throughput, MiB/s',
        spool: aggregate,
        comparator: single,
        comparatorName: 'one upload, scenario 1',
        ratio: single === undefined ? undefined : aggregate / single,
        target: 0.7,
        higherIsBetter: true,
      },
      {
        measure: `p99 status-query latency, ms (${median(rounds.map((r) => r.probes))} probes)`,
        spool: median(rounds.map((r) => r.p99)),
        target: 20,
      },
      {
        measure: 'server peak RSS, MiB',
        spool: median(rounds.map((r) => r.serverPeakMiB)),
        target: 300,
      },
    ];
  },
};

/** The status prober, in its own process, once its sessions exist. */
async function startProber(ctx, url) {
  const child = spawn(process.execPath, [join(ctx.root, 'bench/lib/status-prober.mjs'), url], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== 'ready') throw new Error(`status prober: ${first.value ?? 'exited'}`);
  return {
    async stop() {
      child.stdin.end();
      const last = await lines.next();
      return JSON.parse(last.value);
    },
  };
}
