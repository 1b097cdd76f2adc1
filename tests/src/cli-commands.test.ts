// The `spool` command's client side: upload, download, status, cancel and ls against a real
// `spool serve`, and an upload SIGKILLed in the middle then run again.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  MiB,
  initiate,
  md5Base64,
  putChunk,
  query,
  randomData,
  storedBytes,
  CHUNK,
} from './harness/gcs.js';
import { readObject, scratchDir, writeScratch } from './harness/client.js';
import { scrape } from './harness/metrics.js';
import { SpoolProcess, spoolBin } from './harness/spool-process.js';
import { TcpProxy } from './harness/tcp-proxy.js';

let spool: SpoolProcess;
const dir = await scratchDir();
const cache = join(dir, 'cache');

before(async () => {
  spool = await SpoolProcess.start();
});
after(async () => spool.stop());

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `spool ARGS` with a private cache directory and no endpoint from the environment. */
function start(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const clean = { ...process.env };
  for (const name of [
    'SPOOL_ENDPOINT',
    'STORAGE_EMULATOR_HOST',
    'SPOOL_TOKEN',
    'SPOOL_CHUNK_SIZE',
    'SPOOL_MULTIPART_THRESHOLD',
  ])
    delete clean[name];
  return spawn(process.execPath, [spoolBin, ...args], {
    env: { ...clean, XDG_CACHE_HOME: cache, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function finish(child: ChildProcess, stdin?: Buffer): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(stdin);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

const spoolCli = (
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: Buffer } = {},
) => finish(start(args, options.env), options.stdin);

describe('spool upload', () => {
  it('uploads a file and prints what the server stored; --json prints the object resource', async () => {
    const data = randomData(3 * MiB + 7);
    const path = await writeScratch(dir, 'a.bin', data);
    const plain = await spoolCli([
      'upload',
      path,
      'gs://test-bucket/cli/a.bin',
      '--endpoint',
      spool.url,
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      plain.stdout,
      new RegExp(
        `^gs://test-bucket/cli/a.bin: ${data.length} bytes stored, crc32c \\S+, md5 ${md5Base64(data).replace(/[+/]/g, '\\$&')}, generation \\d+\\n$`,
      ),
    );
    assert.equal(plain.stderr, '', 'no progress bar when stderr is not a terminal');

    const json = await spoolCli(
      ['upload', path, 'gs://test-bucket/cli/a.json.bin', '--json', '--chunk-size', '1MiB'],
      {
        env: { SPOOL_ENDPOINT: spool.url },
      },
    );
    assert.equal(json.code, 0, json.stderr);
    const object = JSON.parse(json.stdout) as Record<string, string>;
    assert.equal(object['name'], 'cli/a.json.bin');
    assert.equal(object['size'], String(data.length));
    assert.equal(object['md5Hash'], md5Base64(data));
    assert.deepEqual(await readObject(spool.url, 'cli/a.json.bin'), data);
  });

  it('sends a file up to --multipart-threshold in one multipart request, a larger one through a session', async () => {
    const multipartObjects = async () =>
      (await scrape(spool.url)).get('spool_objects_stored_total{type="multipart"}') ?? 0;
    const data = randomData(100 * 1024);
    const path = await writeScratch(dir, 'small-multipart.bin', data);
    for (const [threshold, added] of [
      ['100KiB', 1],
      ['102399', 0],
    ] as const) {
      const before = await multipartObjects();
      const run = await spoolCli(
        ['upload', path, 'gs://test-bucket/cli/multipart.bin', '--multipart-threshold', threshold],
        { env: { SPOOL_ENDPOINT: spool.url } },
      );
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await multipartObjects()) - before, added, threshold);
      assert.deepEqual(await readObject(spool.url, 'cli/multipart.bin'), data);
    }
  });

  it('uploads standard input in chunks, with STORAGE_EMULATOR_HOST as the endpoint', async () => {
    const data = randomData(2 * MiB + 1);
    const run = await spoolCli(
      ['upload', '-', 'gs://test-bucket/cli/stdin.bin', '--chunk-size', '256KiB', '--json'],
      {
        env: { STORAGE_EMULATOR_HOST: spool.url.replace('http://', '') },
        stdin: data,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { md5Hash: string }).md5Hash, md5Base64(data));
    assert.deepEqual(await readObject(spool.url, 'cli/stdin.bin'), data);
  });

  it('refuses a chunk size that is not a multiple of 256 KiB before connecting', async () => {
    const proxy = await TcpProxy.start(spool.url);
    try {
      const path = await writeScratch(dir, 'small.bin', randomData(10));
      const run = await spoolCli([
        'upload',
        path,
        'gs://test-bucket/cli/bad-chunk',
        '--endpoint',
        proxy.url,
        '--chunk-size',
        '300KiB',
      ]);
      assert.equal(run.code, 2);
      assert.match(
        run.stderr,
        /^spool upload: The chunk size must be a positive multiple of 256 KiB \(262144 bytes\), such as 8 MiB; got 307200 bytes/,
      );
      assert.equal(proxy.connections, 0);
    } finally {
      await proxy.close();
    }
  });

  it("fails with status 1 and the server's reason when the bucket does not exist", async () => {
    const path = await writeScratch(dir, 'small.bin', randomData(10));
    const run = await spoolCli(['upload', path, 'gs://no-such-bucket/x', '--endpoint', spool.url]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /The specified bucket does not exist\. Does the bucket "no-such-bucket" exist/,
    );
    assert.equal(run.stdout, '');
  });

  it('sends $SPOOL_TOKEN to a server that wants tokens, and says to set it when missing', async () => {
    const token = 'cli-token-0123456789abcdef01234';
    await writeScratch(dir, 'tokens', Buffer.from(`${token} test-bucket\n`));
    const guarded = await SpoolProcess.start({ args: ['--token-file', join(dir, 'tokens')] });
    try {
      const path = await writeScratch(dir, 'guarded.bin', randomData(1000));
      const args = ['upload', path, 'gs://test-bucket/guarded.bin', '--endpoint', guarded.url];
      const refused = await spoolCli(args);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /answered 401.*set a bearer token \(\$SPOOL_TOKEN/);
      const allowed = await spoolCli(args, { env: { SPOOL_TOKEN: token } });
      assert.equal(allowed.code, 0, allowed.stderr);
      const listed = await spoolCli(['ls', 'gs://test-bucket', '--endpoint', guarded.url], {
        env: { SPOOL_TOKEN: token },
      });
      assert.match(listed.stdout, /1000 {2}\S+ {2}gs:\/\/test-bucket\/guarded\.bin/);
    } finally {
      await guarded.stop();
    }
  });

  it('explains its arguments', async () => {
    const help = await spoolCli(['upload', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--chunk-size SIZE/);
    const wrong = await spoolCli(['upload', 'only-one-argument']);
    assert.equal(wrong.code, 2);
    assert.match(
      wrong.stderr,
      /takes a file \(or - for standard input\) and gs:\/\/BUCKET\/OBJECT/,
    );
  });
});

describe('spool upload, SIGKILLed and run again', () => {
  it('continues the same session and sends only the bytes the server does not have', async () => {
    const proxy = await TcpProxy.start(spool.url);
    try {
      const data = randomData(64 * MiB);
      const path = await writeScratch(dir, 'killed.bin', data);
      const args = ['upload', path, 'gs://test-bucket/cli/killed.bin', '--endpoint', proxy.url];

      const first = start(args);
      const firstRun = finish(first);
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (proxy.bodyBytesUp >= 24 * MiB) {
            clearInterval(poll);
            first.kill('SIGKILL');
            resolve();
          }
        }, 2);
      });
      assert.equal((await firstRun).signal, 'SIGKILL');

      const firstRequests = proxy.requests.length;
      const sessionPath = proxy.requests.find((r) => r.method === 'PUT')!.path;
      const stored = storedBytes(await query(`${spool.url}${sessionPath}`));
      assert.ok(stored > 0 && stored < data.length, `the server kept ${stored} bytes`);
      const records = await readdir(join(cache, 'spool', 'uploads'));
      assert.equal(records.length, 1, 'the session is remembered');

      const bodyBefore = proxy.bodyBytesUp;
      const second = await finish(start(args));
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /^Resuming an earlier upload of .*killed\.bin/);
      const sent = proxy.bodyBytesUp - bodyBefore;
      console.log(
        `SIGKILL figures: ${JSON.stringify({ size: data.length, storedBeforeRerun: stored, sentByRerun: sent })}`,
      );
      assert.equal(sent, data.length - stored, 'only the missing bytes');
      const rerun = proxy.requests.slice(firstRequests);
      assert.ok(
        rerun.every((r) => r.method === 'PUT' && r.path === sessionPath),
        'the same session, no new one',
      );
      assert.deepEqual(await readObject(spool.url, 'cli/killed.bin'), data);
      assert.deepEqual(
        await readdir(join(cache, 'spool', 'uploads')),
        [],
        'forgotten once complete',
      );
    } finally {
      await proxy.close();
    }
  });
});

describe('spool download, status, cancel, ls', () => {
  it('downloads to a file or to standard output, checked; a missing object leaves no file', async () => {
    const data = randomData(MiB + 3);
    const path = await writeScratch(dir, 'down.bin', data);
    assert.equal(
      (await spoolCli(['upload', path, 'gs://test-bucket/cli/down.bin', '--endpoint', spool.url]))
        .code,
      0,
    );
    const target = join(dir, 'downloaded.bin');
    const toFile = await spoolCli([
      'download',
      'gs://test-bucket/cli/down.bin',
      target,
      '--endpoint',
      spool.url,
    ]);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.deepEqual(await readFile(target), data);

    const child = start([
      'download',
      'gs://test-bucket/cli/down.bin',
      '-',
      '--endpoint',
      spool.url,
    ]);
    const parts: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => parts.push(c));
    const toStdout = await finish(child);
    assert.equal(toStdout.code, 0);
    assert.deepEqual(Buffer.concat(parts), data);

    const missing = join(dir, 'missing.bin');
    const run = await spoolCli([
      'download',
      'gs://test-bucket/cli/nothing-here',
      missing,
      '--endpoint',
      spool.url,
    ]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /answered 404 when downloading gs:\/\/test-bucket\/cli\/nothing-here: No such object/,
    );
    assert.ok(!existsSync(missing));
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('.part')),
      [],
    );
  });

  it('status shows what a session has; cancel drops it', async () => {
    const uri = await initiate(spool.url, 'test-bucket', 'cli/session.bin');
    assert.equal((await spoolCli(['status', uri])).stdout, 'active: 0 bytes stored\n');
    await putChunk(uri, `bytes 0-${CHUNK - 1}/*`, randomData(CHUNK));
    assert.equal((await spoolCli(['status', uri])).stdout, `active: ${CHUNK} bytes stored\n`);
    const cancelled = await spoolCli(['cancel', uri]);
    assert.equal(cancelled.code, 0);
    assert.equal(cancelled.stdout, 'cancelled\n');
    const after = await spoolCli(['status', uri]);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /answered 410/);

    const done = await initiate(spool.url, 'test-bucket', 'cli/done.bin');
    await putChunk(done, 'bytes 0-9/10', randomData(10));
    assert.match(
      (await spoolCli(['status', done])).stdout,
      /^complete: gs:\/\/test-bucket\/cli\/done\.bin, 10 bytes, generation \d+\n$/,
    );
    const notCancelled = await spoolCli(['cancel', done]);
    assert.equal(notCancelled.code, 1);
    assert.match(notCancelled.stderr, /already complete/);
  });

  it('ls lists objects under a prefix, one per line', async () => {
    for (const name of ['ls/a', 'ls/b/c', 'other']) {
      const path = await writeScratch(dir, 'ls.bin', randomData(5));
      assert.equal(
        (await spoolCli(['upload', path, `gs://test-bucket/${name}`, '--endpoint', spool.url]))
          .code,
        0,
      );
    }
    const run = await spoolCli(['ls', 'gs://test-bucket/ls/', '--endpoint', spool.url]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^\s+5 {2}\d{4}-\d\d-\d\dT\S+ {2}gs:\/\/test-bucket\/ls\/a$/);
    assert.match(lines[1]!, /gs:\/\/test-bucket\/ls\/b\/c$/);
  });
});
