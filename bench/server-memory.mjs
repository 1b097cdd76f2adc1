// Streams SIZE bytes (default 4 GiB) to `spool serve` in one resumable request and reports the
// server's peak resident memory (VmHWM) before and after, and the throughput. The object's MD5 is
// checked against what was sent.
//   node bench/server-memory.mjs [GiB]
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';

const gib = Number(process.argv[2] ?? 4);
const size = gib * 1024 ** 3;
const dir = await mkdtemp(join(tmpdir(), 'spool-mem-'));
const bin = new URL('../packages/cli/bin/spool.js', import.meta.url).pathname;
const server = spawn(
  process.execPath,
  [bin, 'serve', '--port', '0', '--data', dir, '--bucket', 'bench', '--log-level', 'warn'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise((resolve) =>
  createInterface({ input: server.stdout }).once('line', (l) => resolve(l.split(' ')[2])),
);
const kib = (field) =>
  Number(
    new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1],
  );

const init = await fetch(`${url}/upload/storage/v1/b/bench/o?uploadType=resumable&name=big.bin`, {
  method: 'POST',
});
const session = init.headers.get('location');
const idlePeak = kib('VmHWM');

// Deterministic pseudo-random data, 1 MiB at a time, never held whole.
const md5 = createHash('md5');
const block = Buffer.alloc(1024 * 1024);
let produced = 0;
const body = Readable.from(
  (function* () {
    while (produced < size) {
      randomFillSync(block);
      const piece = Buffer.from(block.subarray(0, Math.min(block.length, size - produced)));
      produced += piece.length;
      md5.update(piece);
      yield piece;
    }
  })(),
);
const started = performance.now();
const result = await new Promise((resolve, reject) => {
  const req = request(
    session,
    { method: 'PUT', headers: { 'content-range': `bytes 0-*/${size}` } },
    (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    },
  );
  req.on('error', reject);
  body.pipe(req);
});
const seconds = (performance.now() - started) / 1000;
const object = JSON.parse(result.text);
const peak = kib('VmHWM');
console.log(
  JSON.stringify({
    bytes: size,
    status: result.status,
    md5Matches: object.md5Hash === md5.digest('base64'),
    seconds: Number(seconds.toFixed(1)),
    MiBPerSecond: Number((size / 1024 ** 2 / seconds).toFixed(0)),
    serverPeakRssMiBIdle: Number((idlePeak / 1024).toFixed(1)),
    serverPeakRssMiBAfter: Number((peak / 1024).toFixed(1)),
  }),
);
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
await rm(dir, { recursive: true, force: true });
