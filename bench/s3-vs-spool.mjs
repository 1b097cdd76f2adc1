// One upload of the same file (1 GiB by default) through Spool to S3, and straight to the same S3
// with the AWS SDK's multipart upload (@aws-sdk/lib-storage), alternately over several rounds.
// Prints each round, the medians, and the ratio of Spool's throughput to the direct upload's.
//
//   npm run bench                        # 1 GiB, 5 rounds
//   node bench/s3-vs-spool.mjs [GiB] [rounds]
//
// S3 and PostgreSQL: from AWS_ENDPOINT_URL (+ AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and
// SPOOL_BENCH_POSTGRES_URL when set; otherwise throwaway ones are started with
// scripts/services/{ceph,postgres}.sh and stopped at the end.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import pg from 'pg';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const root = fileURLToPath(new URL('..', import.meta.url));
const size = Math.round(Number(process.argv[2] ?? 1) * 1024 ** 3);
const rounds = Number(process.argv[3] ?? 5);
const PART = 8 * 1024 * 1024;

const work = await mkdtemp(join(tmpdir(), 'spool-bench-'));
await chmod(work, 0o755); // the postgres user needs to reach its directory inside
const stops = [];
let spool;
try {
  const env = await services();
  const s3 = new S3Client({
    endpoint: env.AWS_ENDPOINT_URL,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const bucket = `spool-bench-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const database = `spool_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: env.SPOOL_BENCH_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  stops.push(async () => {
    await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
    await admin.end();
  });
  const url = new URL(env.SPOOL_BENCH_POSTGRES_URL);
  url.pathname = `/${database}`;

  const file = join(work, 'upload.bin');
  const md5 = await writeRandomFile(file, size);
  spool = await startSpool(url.href, `s3://${bucket}/spool`, env);

  const times = { spool: [], direct: [] };
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? ['spool', 'direct'] : ['direct', 'spool'];
    const line = [];
    for (const which of order) {
      const started = performance.now();
      if (which === 'spool') {
        const object = await uploadThroughSpool(spool.url, file, size);
        if (object.md5Hash !== md5)
          throw new Error(`Spool stored a different MD5: ${object.md5Hash}`);
      } else {
        await new Upload({
          client: s3,
          params: { Bucket: bucket, Key: 'direct/upload.bin', Body: createReadStream(file) },
          partSize: PART,
          queueSize: 4,
        }).done();
      }
      const seconds = (performance.now() - started) / 1000;
      times[which].push(seconds);
      line.push(`${which} ${seconds.toFixed(2)} s (${mbps(size, seconds)} MB/s)`);
      // Free the space before the next upload (a memstore OSD holds it in RAM).
      if (which === 'spool') await deleteThroughSpool(spool.url);
      else await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'direct/upload.bin' }));
    }
    console.log(`round ${round}: ${line.join(', ')}`);
  }
  const s = median(times.spool);
  const d = median(times.direct);
  console.log('');
  const rows = [
    [`${(size / 1024 ** 3).toFixed(2)} GiB upload to S3 (${rounds} rounds)`, 'median s', 'MB/s'],
    ['Spool, one resumable request', s.toFixed(2), mbps(size, s)],
    ['AWS SDK multipart, 8 MiB parts, 4 at once', d.toFixed(2), mbps(size, d)],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
  console.log('');
  console.log(`Spool / direct throughput: ${(d / s).toFixed(2)}x (target >= 0.8x)`);
} finally {
  spool?.child.kill('SIGTERM');
  if (spool) await new Promise((r) => spool.child.once('exit', r));
  for (const stop of stops.reverse()) await stop().catch((e) => console.error(String(e)));
  await rm(work, { recursive: true, force: true });
}

/** The S3 and PostgreSQL to use: given, or throwaway ones on free ports. */
async function services() {
  const env = { ...process.env };
  if (!env.AWS_ENDPOINT_URL) {
    const ceph = {
      ...process.env,
      CEPH_DIR: join(work, 'ceph'),
      CEPH_RGW_PORT: String(await freePort()),
      CEPH_MON_PORT: String(await freePort()),
      CEPH_OSD_SIZE: String(Math.max(4 * 1024 ** 3, 3 * size)),
    };
    const endpoint = run('scripts/services/ceph.sh', ['start'], ceph);
    stops.push(async () => run('scripts/services/ceph.sh', ['stop'], ceph));
    Object.assign(env, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'SPOOLTESTACCESSKEY01',
      AWS_SECRET_ACCESS_KEY: 'spoolTestSecretKey0000000000000000000001',
    });
  }
  if (!env.SPOOL_BENCH_POSTGRES_URL) {
    const postgres = {
      ...process.env,
      PG_DIR: join(work, 'pg'),
      PG_PORT: String(await freePort()),
    };
    env.SPOOL_BENCH_POSTGRES_URL = run('scripts/services/postgres.sh', ['start'], postgres);
    stops.push(async () => run('scripts/services/postgres.sh', ['stop'], postgres));
  }
  Object.assign(process.env, env); // the SDK reads the keys from the environment
  return env;
}

function run(script, args, env) {
  const out = execFileSync(join(root, script), args, { env, encoding: 'utf8' });
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

/** Writes `bytes` random bytes, 1 MiB at a time; returns their MD5 in base64. */
async function writeRandomFile(path, bytes) {
  const out = createWriteStream(path);
  const md5 = createHash('md5');
  const block = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < bytes; written += block.length) {
    randomFillSync(block);
    const piece = Buffer.from(block.subarray(0, Math.min(block.length, bytes - written)));
    md5.update(piece);
    if (!out.write(piece)) await new Promise((r) => out.once('drain', r));
  }
  out.end();
  await finished(out);
  return md5.digest('base64');
}

async function startSpool(metadata, blobs, env) {
  const bin = join(root, 'packages/cli/bin/spool.js');
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--port', '0', '--bucket', 'bench', '--log-level', 'warn'],
    {
      cwd: work,
      env: { ...env, SPOOL_METADATA: metadata, SPOOL_BLOBS: blobs },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`spool serve exited with ${code}`)));
  });
  return { child, url: line.split(' ')[2] };
}

async function uploadThroughSpool(base, file, bytes) {
  const init = await fetch(
    `${base}/upload/storage/v1/b/bench/o?uploadType=resumable&name=upload.bin`,
    {
      method: 'POST',
    },
  );
  if (init.status !== 200) throw new Error(`initiation answered ${init.status}`);
  const session = init.headers.get('location');
  return new Promise((resolve, reject) => {
    const req = request(
      session,
      {
        method: 'PUT',
        headers: { 'content-range': `bytes 0-*/${bytes}`, 'content-length': bytes },
      },
      (res) => {
        const parts = [];
        res.on('data', (c) => parts.push(c));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString();
          if (res.statusCode === 200) resolve(JSON.parse(text));
          else reject(new Error(`upload answered ${res.statusCode}: ${text}`));
        });
      },
    );
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

async function deleteThroughSpool(base) {
  const res = await fetch(`${base}/storage/v1/b/bench/o/upload.bin`, { method: 'DELETE' });
  if (res.status !== 204) throw new Error(`delete answered ${res.status}`);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function mbps(bytes, seconds) {
  return (bytes / 1e6 / seconds).toFixed(0);
}
