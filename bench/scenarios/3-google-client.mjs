// The same file to the same `spool serve`: `spool upload` against Google's own Node client,
// @google-cloud/storage v7, in 8 MiB chunks and in one request.
import { join } from 'node:path';
import {
  MiB,
  alternate,
  deleteObject,
  mibPerSecond,
  run,
  spoolUpload,
  startSpool,
  throughputRow,
} from '../lib/common.mjs';

export default {
  id: '3',
  title:
    'file to spool serve: spool upload vs @google-cloud/storage v7 (8 MiB chunks; one request)',
  async run(ctx) {
    const { path, size } = await ctx.file('big', ctx.size);
    const spool = await startSpool(join(ctx.work, 's3-spool'));
    const google = (chunk) => async (round) => {
      const name = `s3/google-${chunk ?? 'single'}-${round}`;
      const { ms } = await run(process.execPath, [
        join(ctx.root, 'bench/lib/gcs-upload.mjs'),
        path,
        spool.url,
        name,
        ...(chunk ? [String(chunk)] : []),
      ]);
      await deleteObject(spool.url, name);
      return { ms, mibps: mibPerSecond(size, ms) };
    };
    try {
      const results = await alternate(
        ctx.rounds,
        {
          spool: (round) => spoolUpload(ctx, spool, path, size, `s3/spool-${round}`),
          chunked: google(8 * MiB),
          single: google(undefined),
        },
        ctx.log,
      );
      return [
        throughputRow(results, ['spool', 'chunked'], '@google-cloud/storage, 8 MiB chunks', 1.3),
        throughputRow(results, ['spool', 'single'], '@google-cloud/storage, one request'),
      ];
    } finally {
      await spool.stop();
    }
  },
};
