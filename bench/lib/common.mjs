// Shared pieces of the benchmarks: processes, random files, memory readings, statistics.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const spoolBin = join(root, 'packages/cli/bin/spool.js');
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** A scratch directory on the same disk as the system's temporary files. */
export async function workDir(name) {
  const dir = await mkdtemp(join(tmpdir(), `spool-bench-${name}-`));
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Pseudo-random bytes (AES-CTR over zeros: fast and incompressible), 1 MiB at a time. */
export function* randomPieces(size, seed = 7) {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  for (let at = 0; at < size; at += zeros.length)
    yield cipher.update(zeros.subarray(0, Math.min(zeros.length, size - at)));
}

/** Writes a random file and returns its MD5 (base64, as GCS reports it). */
export async function randomFile(path, size, seed) {
  const md5 = createHash('md5');
  const out = createWriteStream(path);
  for (const piece of randomPieces(size, seed)) {
    md5.update(piece);
    if (!out.write(piece)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
  // On disk before the first measurement, so that its writeback does not run during one.
  const file = await open(path, 'r');
  await file.sync();
  await file.close();
  return md5.digest('base64');
}

/** KiB fields of /proc/PID/status (VmRSS, VmHWM), or undefined once the process is gone. */
export function memory(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(text)[1]) / 1024;
    return { rssMiB: field('VmRSS'), peakMiB: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Starts a long-running process whose first stdout line is `listening on URL`. */
export async function startServer(command, args, options = {}) {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', options.stderr ?? 'inherit'],
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
  });
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected first line: ${line}`));
    });
  });
  return {
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `spool serve` on a data directory, or (dataDir null) on the stores `env` names. */
export function startSpool(dataDir, args = [], env = {}) {
  return startServer(
    process.execPath,
    [
      spoolBin,
      'serve',
      '--port',
      '0',
      ...(dataDir === null ? [] : ['--data', dataDir]),
      '--bucket',
      'bench',
      '--log-level',
      'warn',
      ...args,
    ],
    { env },
  );
}

/**
 * Runs a command to its end; returns its wall time, its peak resident memory (sampled while it
 * runs) and its output. Fails if it exits with a non-zero status.
 */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let peakMiB = 0;
    const sampler = setInterval(() => {
      const m = memory(child.pid);
      if (m) peakMiB = Math.max(peakMiB, m.peakMiB);
    }, 20);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    if (options.stdin) {
      child.stdin.on('error', () => undefined);
      options.stdin(child.stdin);
    }
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(sampler);
      const ms = performance.now() - started;
      if (code !== 0)
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}`));
      else resolve({ ms, peakMiB, stdout, stderr });
    });
  });
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Runs two contenders alternately (A B, then B A, …) so that neither always goes first on a
 * warm or a cold machine, and returns each one's results.
 */
export async function alternate(rounds, contenders, log) {
  const results = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  const names = Object.keys(contenders);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const result = await contenders[name](round);
      results[name].push(result);
      log(`  round ${round + 1} ${name}: ${JSON.stringify(result)}`);
    }
  }
  return results;
}

export const mibPerSecond = (bytes, ms) => bytes / MiB / (ms / 1000);

/**
 * How fast this machine hashes right now: MD5 of 256 MiB on one core (node:crypto), in MiB/s.
 * The CPU's speed on a shared VM moves between hours by 15% or more, and every scenario where
 * Spool hashes each byte moves with it; a reader comparing two runs needs this figure.
 */
export function md5Speed() {
  const block = Buffer.alloc(4 * MiB, 7);
  const hash = createHash('md5');
  const started = performance.now();
  for (let i = 0; i < 64; i++) hash.update(block);
  hash.digest();
  return mibPerSecond(64 * block.length, performance.now() - started);
}

/** `spool upload FILE` to a running `spool serve` as a user would; the object is deleted after. */
export async function spoolUpload(ctx, spool, path, size, name) {
  const { ms, peakMiB } = await run(
    process.execPath,
    [spoolBin, 'upload', path, `gs://bench/${name}`, '--endpoint', spool.url],
    { env: ctx.clientEnv },
  );
  await deleteObject(spool.url, name);
  return { ms, mibps: mibPerSecond(size, ms), peakMiB };
}

/** Frees the disk for the next round. */
export async function deleteObject(server, name) {
  const res = await fetch(`${server}/storage/v1/b/bench/o/${encodeURIComponent(name)}`, {
    method: 'DELETE',
  });
  if (res.status !== 204) throw new Error(`deleting ${name} answered ${res.status}`);
}

/** A result row comparing two medians of a higher-is-better measure. */
export function throughputRow(results, names, comparatorName, target) {
  const spool = median(results[names[0]].map((r) => r.mibps));
  const comparator = median(results[names[1]].map((r) => r.mibps));
  return {
    measure: 'throughput, MiB/s',
    spool,
    comparator,
    comparatorName,
    ratio: spool / comparator,
    target,
    higherIsBetter: true,
  };
}

/**
 * One file, `spool upload` → `spool serve` against another server and its uploader (scripts in
 * bench/lib taking `SERVER_DIR` and `FILE SERVER_URL`), alternately; the other server's directory
 * is emptied after each of its uploads.
 */
export async function fileAgainstServer(
  ctx,
  { name, comparatorName, serverScript, clientScript, target },
) {
  const { path, size } = await ctx.file('big', ctx.size);
  const spool = await startSpool(join(ctx.work, `${name}-spool`));
  const otherDir = await ctx.dir(name);
  const other = await startServer(process.execPath, [
    join(root, 'bench/lib', serverScript),
    otherDir,
  ]);
  try {
    const results = await alternate(
      ctx.rounds,
      {
        spool: (round) => spoolUpload(ctx, spool, path, size, `${name}/${round}`),
        other: async () => {
          const { ms } = await run(process.execPath, [
            join(root, 'bench/lib', clientScript),
            path,
            other.url,
          ]);
          await rm(otherDir, { recursive: true, force: true });
          await ctx.dir(name);
          return { ms, mibps: mibPerSecond(size, ms) };
        },
      },
      ctx.log,
    );
    return throughputRow(results, ['spool', 'other'], comparatorName, target);
  } finally {
    await spool.stop();
    await other.stop();
  }
}
