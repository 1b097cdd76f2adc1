// 5,000 uploads of 4 KiB, 16 at a time, from one client process: Spool's resumable uploads
// (two requests each) and multipart uploads (one), against tus-js-client → @tus/server with
// @tus/file-store (two requests each). Fresh servers and directories each round.
import { join } from 'node:path';
import { alternate, median, run, startServer, startSpool } from '../lib/common.mjs';

const COUNT = 5000;
const BYTES = 4096;
const CONCURRENCY = 16;

export default {
  id: '7',
  title: '5,000 uploads of 4 KiB, 16 at a time',
  async run(ctx) {
    const attempt = (kind) => async (round) => {
      const dir = await ctx.dir(`s7-${kind}-${round}`);
      const server = kind.startsWith('spool')
        ? await startSpool(dir)
        : await startServer(process.execPath, [join(ctx.root, 'bench/lib/tus-server.mjs'), dir]);
      try {
        const { stdout } = await run(process.execPath, [
          join(ctx.root, 'bench/lib/many-uploads.mjs'),
          kind,
          server.url,
          String(COUNT),
          String(BYTES),
          String(CONCURRENCY),
        ]);
        const { ms } = JSON.parse(stdout);
        return { ms, perSecond: COUNT / (ms / 1000) };
      } finally {
        await server.stop();
      }
    };
    const results = await alternate(
      ctx.rounds,
      {
        resumable: attempt('spool-resumable'),
        multipart: attempt('spool-multipart'),
        tus: attempt('tus'),
      },
      ctx.log,
    );
    const rate = (name) => median(results[name].map((r) => r.perSecond));
    return ['resumable', 'multipart'].map((name) => ({
      measure: `objects/s, Spool ${name}`,
      spool: rate(name),
      comparator: rate('tus'),
      comparatorName: 'tus',
      ratio: rate(name) / rate('tus'),
      target: 1.5,
      higherIsBetter: true,
    }));
  },
};
