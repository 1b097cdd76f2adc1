// 1 GiB file: `spool upload` to `spool serve` (durable), against the same bytes streamed by one
// PUT to a minimal Node server writing (and fsyncing) the same disk.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  alternate,
  mibPerSecond,
  run,
  spoolUpload,
  startServer,
  startSpool,
  throughputRow,
} from '../lib/common.mjs';

export default {
  id: '1',
  title: 'file, spool upload → spool serve, vs one PUT to a minimal fsyncing Node server',
  async run(ctx) {
    const { path, size } = await ctx.file('big', ctx.size);
    const spool = await startSpool(join(ctx.work, 's1-spool'));
    const rawDir = await ctx.dir('s1-raw');
    const raw = await startServer(process.execPath, [
      join(ctx.root, 'bench/lib/raw-server.mjs'),
      rawDir,
    ]);
    try {
      const results = await alternate(
        ctx.rounds,
        {
          spool: (round) => spoolUpload(ctx, spool, path, size, `s1/${round}`),
          raw: async () => {
            const { ms } = await run(process.execPath, [
              join(ctx.root, 'bench/lib/raw-put.mjs'),
              path,
              `${raw.url}/x`,
            ]);
            await rm(rawDir, { recursive: true, force: true });
            await ctx.dir('s1-raw');
            return { ms, mibps: mibPerSecond(size, ms) };
          },
        },
        ctx.log,
      );
      const row = throughputRow(results, ['spool', 'raw'], 'raw PUT', 0.85);
      ctx.shared.scenario1SpoolMiBps = row.spool;
      return [row];
    } finally {
      await spool.stop();
      await raw.stop();
    }
  },
};
