// The same file through a proxy that cuts the connection every 64 MiB, the client retrying at
// once: the bytes sent again against the bytes lost in flight, and the time against a clean run
// through the same proxy.
import { join } from 'node:path';
import { MiB, alternate, deleteObject, median, run, startSpool } from '../lib/common.mjs';

const CUT_EVERY = 64 * MiB;

export default {
  id: '5',
  title: 'file with the connection cut every 64 MiB (no backoff)',
  async run(ctx) {
    const { path, size } = await ctx.file('big', ctx.size);
    const spool = await startSpool(join(ctx.work, 's5-spool'));
    const attempt = (cutEvery) => async (round) => {
      const name = `s5/${cutEvery}-${round}`;
      const { stdout } = await run(process.execPath, [
        join(ctx.root, 'bench/lib/cut-upload.mjs'),
        path,
        spool.url,
        name,
        String(cutEvery),
      ]);
      await deleteObject(spool.url, name);
      const result = JSON.parse(stdout);
      return { ...result, resent: result.bodyBytes - size };
    };
    try {
      const results = await alternate(
        ctx.rounds,
        { cut: attempt(CUT_EVERY), clean: attempt(0) },
        ctx.log,
      );
      const resent = median(results.cut.map((r) => r.resent));
      const lost = median(results.cut.map((r) => r.lost));
      const cutMs = median(results.cut.map((r) => r.ms));
      const cleanMs = median(results.clean.map((r) => r.ms));
      return [
        {
          measure: `bytes re-sent vs lost in flight, MiB (${median(results.cut.map((r) => r.cuts))} cuts)`,
          spool: resent / MiB,
          comparator: lost / MiB,
          comparatorName: 'lost in flight',
          ratio: resent / lost,
          target: 1.1,
        },
        {
          measure: 'time, s',
          spool: cutMs / 1000,
          comparator: cleanMs / 1000,
          comparatorName: 'clean run',
          ratio: cutMs / cleanMs,
          target: 1.25,
        },
      ];
    } finally {
      await spool.stop();
    }
  },
};
