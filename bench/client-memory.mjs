// Peak resident memory (VmHWM) of `spool upload`, the client command, against `spool serve`:
//   - a stream from standard input with 8 MiB chunks: should stay under chunk size + 80 MiB;
//   - a file in one streaming request: should stay flat, the same for 1 MiB as for 1 GiB.
// Each object's MD5 is checked against what was sent.
//   node bench/client-memory.mjs [GiB]
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const gib = Number(process.argv[2] ?? 1);
const size = gib * 1024 ** 3;
const chunk = 8 * 1024 ** 2;
const dir = await mkdtemp(join(tmpdir(), 'spool-client-mem-'));
const bin = new URL('../packages/cli/bin/spool.js', import.meta.url).pathname;

const server = spawn(
  process.execPath,
  [
    bin,
    'serve',
    '--port',
    '0',
    '--data',
    join(dir, 'data'),
    '--bucket',
    'bench',
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise((resolve) =>
  createInterface({ input: server.stdout }).once('line', (l) => resolve(l.split(' ')[2])),
);

/** Pseudo-random bytes (AES-CTR), 1 MiB at a time, never held whole; hashed as they go. */
function* data(bytes, md5) {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let at = 0; at < bytes; at += zeros.length) {
    const piece = cipher.update(zeros.subarray(0, Math.min(zeros.length, bytes - at)));
    md5?.update(piece);
    yield piece;
  }
}

/** Runs `spool upload ARGS`, feeding `stdin`; returns the object and the peak RSS in MiB. */
async function measure(args, stdin) {
  const child = spawn(process.execPath, [bin, 'upload', ...args, '--endpoint', url, '--json'], {
    stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'inherit'],
    env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') },
  });
  let peak = 0;
  // VmHWM only grows; sampling it until the process exits catches the peak.
  const poll = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)[1]));
    } catch {
      // The process has just exited.
    }
  }, 20);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const started = performance.now();
  const feeding = stdin ? pipeline(Readable.from(stdin), child.stdin) : Promise.resolve();
  const [code] = await Promise.all([new Promise((r) => child.once('exit', r)), feeding]);
  clearInterval(poll);
  if (code !== 0) throw new Error(`spool upload exited with ${code}`);
  return {
    object: JSON.parse(out),
    peakMiB: Number((peak / 1024).toFixed(1)),
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
}

async function file(name, bytes) {
  const path = join(dir, name);
  const md5 = createHash('md5');
  await pipeline(Readable.from(data(bytes, md5)), createWriteStream(path));
  return { path, md5: md5.digest('base64') };
}

const results = {};
try {
  const streamMd5 = createHash('md5');
  const stream = await measure(
    ['-', 'gs://bench/stream.bin', '--chunk-size', '8MiB'],
    data(size, streamMd5),
  );
  results.stream = {
    bytes: size,
    chunkMiB: chunk / 1024 ** 2,
    peakRssMiB: stream.peakMiB,
    limitMiB: chunk / 1024 ** 2 + 80,
    withinLimit: stream.peakMiB < chunk / 1024 ** 2 + 80,
    md5Matches: stream.object.md5Hash === streamMd5.digest('base64'),
    seconds: stream.seconds,
  };

  const small = await file('small.bin', 1024 * 1024);
  const smallRun = await measure([small.path, 'gs://bench/small.bin']);
  const big = await file('big.bin', size);
  const bigRun = await measure([big.path, 'gs://bench/big.bin']);
  results.file = {
    bytes: size,
    peakRssMiB: bigRun.peakMiB,
    peakRssMiBFor1MiB: smallRun.peakMiB,
    md5Matches: bigRun.object.md5Hash === big.md5 && smallRun.object.md5Hash === small.md5,
    seconds: bigRun.seconds,
  };
  console.log(JSON.stringify(results, null, 2));
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await rm(dir, { recursive: true, force: true });
}
