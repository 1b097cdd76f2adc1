// Distributed mode: `spool upload` → `spool serve` on PostgreSQL + S3 (Ceph RGW), against the
// AWS SDK's multipart upload of the same file straight to the same S3. S3 and PostgreSQL come
// from AWS_ENDPOINT_URL (+ keys) and SPOOL_BENCH_POSTGRES_URL when set; otherwise throwaway ones
// are started with scripts/services/{ceph,postgres}.sh and stopped after.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import {
  alternate,
  mibPerSecond,
  run,
  spoolUpload,
  startSpool,
  throughputRow,
} from '../lib/common.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export default {
  id: '8',
  title:
    'file to S3 (Ceph RGW): spool upload → spool serve on PostgreSQL + S3, vs AWS SDK multipart',
  async run(ctx) {
    const { path, size } = await ctx.file('big', ctx.size);
    const stops = [];
    try {
      const env = await services(ctx, size, stops);
      const s3 = new S3Client({
        endpoint: env.AWS_ENDPOINT_URL,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        },
      });
      const bucket = `spool-bench-${randomBytes(4).toString('hex')}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const database = await throwawayDatabase(env.SPOOL_BENCH_POSTGRES_URL, stops);
      const spool = await startSpool(null, [], {
        ...env,
        SPOOL_METADATA: database,
        SPOOL_BLOBS: `s3://${bucket}/spool`,
      });
      stops.push(() => spool.stop());
      const results = await alternate(
        ctx.rounds,
        {
          spool: (round) => spoolUpload(ctx, spool, path, size, `s8/${round}`),
          direct: async (round) => {
            const key = `direct/${round}`;
            const { ms } = await run(
              process.execPath,
              [join(ctx.root, 'bench/lib/s3-upload.mjs'), path, bucket, key],
              { env },
            );
            // Free the space before the next upload (a memstore OSD holds it in RAM).
            await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
            return { ms, mibps: mibPerSecond(size, ms) };
          },
        },
        ctx.log,
      );
      return [throughputRow(results, ['spool', 'direct'], 'AWS SDK multipart, 8 MiB × 4', 0.8)];
    } finally {
      for (const stop of stops.reverse()) await stop().catch((e) => ctx.log(String(e)));
    }
  },
};

/** The S3 and PostgreSQL to use: given, or throwaway ones on free ports. */
async function services(ctx, size, stops) {
  const env = {};
  for (const name of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'])
    if (process.env[name]) env[name] = process.env[name];
  env.SPOOL_BENCH_POSTGRES_URL = process.env.SPOOL_BENCH_POSTGRES_URL;
  // The postgres user needs to reach its directory inside the run's directory.
  await chmod(ctx.work, 0o755);
  if (!env.AWS_ENDPOINT_URL) {
    const ceph = {
      ...process.env,
      CEPH_DIR: join(ctx.work, 'ceph'),
      CEPH_RGW_PORT: String(await freePort()),
      CEPH_MON_PORT: String(await freePort()),
      CEPH_OSD_SIZE: String(Math.max(4 * 1024 ** 3, 3 * size)),
    };
    env.AWS_ENDPOINT_URL = service(ctx, 'ceph.sh', ['start'], ceph);
    stops.push(async () => service(ctx, 'ceph.sh', ['stop'], ceph));
    env.AWS_ACCESS_KEY_ID = 'SPOOLTESTACCESSKEY01';
    env.AWS_SECRET_ACCESS_KEY = 'spoolTestSecretKey0000000000000000000001';
  }
  if (!env.SPOOL_BENCH_POSTGRES_URL) {
    const postgres = {
      ...process.env,
      PG_DIR: join(ctx.work, 'pg'),
      PG_PORT: String(await freePort()),
    };
    env.SPOOL_BENCH_POSTGRES_URL = service(ctx, 'postgres.sh', ['start'], postgres);
    stops.push(async () => service(ctx, 'postgres.sh', ['stop'], postgres));
  }
  return env;
}

async function throwawayDatabase(url, stops) {
  const database = `spool_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  stops.push(async () => {
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
    await admin.end();
  });
  const target = new URL(url);
  target.pathname = `/${database}`;
  return target.href;
}

/** Runs one of scripts/services/*.sh; its last line of output is what it started. */
function service(ctx, script, args, env) {
  const out = execFileSync(join(ctx.root, 'scripts/services', script), args, {
    env,
    encoding: 'utf8',
  });
  return out.trim().split('\n').pop();
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
