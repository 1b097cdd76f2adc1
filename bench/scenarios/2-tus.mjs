// The same file with `spool upload` → `spool serve`, against tus-js-client → @tus/server with
// @tus/file-store, both with their defaults. (FileStore does not fsync what it writes; Spool
// does before it acknowledges.)
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
  id: '2',
  title: 'file, spool upload → spool serve, vs tus-js-client → @tus/server + @tus/file-store',
  async run(ctx) {
    const { path, size } = await ctx.file('big', ctx.size);
    const spool = await startSpool(join(ctx.work, 's2-spool'));
    const tusDir = await ctx.dir('s2-tus');
    const tus = await startServer(process.execPath, [
      join(ctx.root, 'bench/lib/tus-server.mjs'),
      tusDir,
    ]);
    try {
      const results = await alternate(
        ctx.rounds,
        {
          spool: (round) => spoolUpload(ctx, spool, path, size, `s2/${round}`),
          tus: async () => {
            const { ms } = await run(process.execPath, [
              join(ctx.root, 'bench/lib/tus-upload.mjs'),
              path,
              tus.url,
            ]);
            await rm(tusDir, { recursive: true, force: true });
            await ctx.dir('s2-tus');
            return { ms, mibps: mibPerSecond(size, ms) };
          },
        },
        ctx.log,
      );
      return [throughputRow(results, ['spool', 'tus'], 'tus', 1.3)];
    } finally {
      await spool.stop();
      await tus.stop();
    }
  },
};
