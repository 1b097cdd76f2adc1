// Memory: a 4 GiB file through `spool upload` into a fresh `spool serve` (the server's resident
// memory after, less before), and 1 GiB from standard input in 8 MiB chunks (the client's peak).
import { join } from 'node:path';
import {
  MiB,
  deleteObject,
  median,
  memory,
  randomPieces,
  run,
  spoolBin,
  spoolUpload,
  startSpool,
} from '../lib/common.mjs';

const CHUNK = 8 * MiB;

export default {
  id: '6',
  title: '4× the file size through one server; the file size from stdin in 8 MiB chunks',
  async run(ctx) {
    const big = await ctx.file('quadruple', 4 * ctx.size);
    const growth = [];
    const clientPeak = [];
    for (let round = 0; round < ctx.rounds; round++) {
      const spool = await startSpool(join(ctx.work, `s6-${round}`));
      try {
        const before = memory(spool.pid).rssMiB;
        await spoolUpload(ctx, spool, big.path, big.size, `s6/big-${round}`);
        growth.push(memory(spool.pid).peakMiB - before);
        const name = `s6/stdin-${round}`;
        const { peakMiB } = await run(
          process.execPath,
          [spoolBin, 'upload', '-', `gs://bench/${name}`, '--endpoint', spool.url],
          { env: ctx.clientEnv, stdin: (input) => feed(input, ctx.size) },
        );
        await deleteObject(spool.url, name);
        clientPeak.push(peakMiB);
        ctx.log(`  round ${round + 1}: server growth ${growth.at(-1)} MiB, client ${peakMiB} MiB`);
      } finally {
        await spool.stop();
      }
    }
    return [
      {
        measure: `server RSS growth over a ${(big.size / MiB / 1024).toFixed(0)} GiB upload, MiB`,
        spool: median(growth),
        target: 64,
      },
      {
        measure: 'client peak RSS from stdin, 8 MiB chunks, MiB',
        spool: median(clientPeak),
        target: CHUNK / MiB + 80,
      },
    ];
  },
};

async function feed(input, size) {
  for (const piece of randomPieces(size, 3))
    if (!input.write(piece)) await new Promise((resolve) => input.once('drain', resolve));
  input.end();
}
