// rclone (Debian's package) against `spool serve`, as a user would run it: no configuration file,
// the GCS backend pointed at Spool with --gcs-endpoint, anonymous access. Every byte is checked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { compat } from './harness/compat.js';
import { MiB, download, md5Base64, randomData } from './harness/gcs.js';
import { SpoolProcess } from './harness/spool-process.js';

const tool = 'rclone 1.60';
let spool: SpoolProcess;
let dir: string;
const bucket = 'test-bucket';

/** Runs rclone with the GCS backend aimed at Spool; resolves with its stdout. */
function rclone(args: string[], stdin?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('rclone', [
      '--config',
      '/dev/null',
      '--gcs-endpoint',
      `${spool.url}/storage/v1/`,
      '--gcs-anonymous',
      '--low-level-retries',
      '1',
      '--retries',
      '1',
      ...args,
    ]);
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`rclone ${args[0]} exited ${code}:\n${err}`)),
    );
    child.stdin.end(stdin);
  });
}

/** The server's access log lines since `mark`. */
function requestsSince(
  mark: number,
): { method: string; path: string; status: number; upload?: string; no308?: boolean }[] {
  return spool.stderr
    .split('\n')
    .slice(mark)
    .filter((l) => l.includes('"msg":"request"'))
    .map(
      (l) =>
        JSON.parse(l) as {
          method: string;
          path: string;
          status: number;
          upload?: string;
          no308?: boolean;
        },
    );
}

const logMark = () => spool.stderr.split('\n').length;

async function stored(name: string): Promise<Buffer> {
  const res = await download(spool.url, bucket, name);
  assert.equal(res.status, 200, res.text());
  return res.body;
}

before(async () => {
  spool = await SpoolProcess.start({ args: ['--log-level', 'info'] });
  dir = await mkdtemp(join(tmpdir(), 'spool-rclone-'));
});
after(async () => {
  await spool.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('rclone against spool serve', () => {
  const small = randomData(300_000);
  const large = randomData(40 * MiB + 17);

  compat(tool, 'copyto, small file (multipart upload)', async () => {
    await writeFile(join(dir, 'small.bin'), small);
    const mark = logMark();
    await rclone(['copyto', join(dir, 'small.bin'), `:gcs:${bucket}/rclone/small.bin`]);
    assert.ok((await stored('rclone/small.bin')).equals(small));
    assert.ok(
      requestsSince(mark).some((r) => r.upload === 'multipart' && r.status === 200),
      'rclone used a multipart upload',
    );
  });

  compat(tool, 'copyto, 40 MiB file (resumable, POST chunks with X-GUploader-No-308)', async () => {
    await writeFile(join(dir, 'large.bin'), large);
    const mark = logMark();
    await rclone(['copyto', join(dir, 'large.bin'), `:gcs:${bucket}/rclone/large.bin`]);
    assert.ok((await stored('rclone/large.bin')).equals(large));
    const requests = requestsSince(mark);
    assert.ok(
      requests.some((r) => r.upload === 'resumable'),
      'rclone started a resumable session',
    );
    const chunks = requests.filter((r) => r.method === 'POST' && r.no308 === true);
    assert.ok(
      chunks.length >= 2,
      `rclone sent its chunks by POST with X-GUploader-No-308 (saw ${chunks.length})`,
    );
  });

  compat(tool, 'rcat from stdin', async () => {
    const piped = randomData(20 * MiB + 3);
    await rclone(['rcat', `:gcs:${bucket}/rclone/piped.bin`], piped);
    assert.ok((await stored('rclone/piped.bin')).equals(piped));
  });

  compat(tool, 'cat', async () => {
    const out = await rclone(['cat', `:gcs:${bucket}/rclone/large.bin`]);
    assert.equal(md5Base64(out), md5Base64(large));
  });

  compat(tool, 'lsl', async () => {
    const listing = (await rclone(['lsl', `:gcs:${bucket}/rclone`])).toString();
    for (const [name, size] of [
      ['small.bin', small.length],
      ['large.bin', large.length],
      ['piped.bin', 20 * MiB + 3],
    ] as const) {
      assert.match(
        listing,
        new RegExp(`^\\s*${size} \\d{4}-\\d{2}-\\d{2} [\\d:.]+ ${name.replace('.', '\\.')}$`, 'm'),
      );
    }
  });

  compat(tool, 'deletefile', async () => {
    await rclone(['deletefile', `:gcs:${bucket}/rclone/small.bin`]);
    const res = await download(spool.url, bucket, 'rclone/small.bin');
    assert.equal(res.status, 404);
  });
});
