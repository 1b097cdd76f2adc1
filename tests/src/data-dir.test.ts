// `spool serve --data DIR` on a directory it must not use: one another server is using (by any
// path to it), one that holds something else, one of another format version. Each refusal exits
// with a message that says what to do, and leaves the directory as it was.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { download, randomData } from './harness/gcs.js';
import { SpoolProcess, serveUntilExit } from './harness/spool-process.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spool-data-dir-'));
  dirs.push(dir);
  return dir;
}

/** Runs `spool serve --data DIR` until it exits. */
function serveOn(dataDir: string) {
  return serveUntilExit(['--data', dataDir, '--bucket', 'test-bucket']);
}

/**
 * A one-request upload of `data`, its headers and first `sent` bytes on the wire and the rest
 * held back: call `finish` to send them and read the status line of the answer.
 */
async function uploadInProgress(base: string, name: string, data: Buffer, sent: number) {
  const target = new URL(base);
  const socket = connect(Number(target.port), target.hostname);
  await new Promise((r) => socket.once('connect', r));
  let answer = '';
  socket.on('data', (c: Buffer) => (answer += c.toString()));
  socket.write(
    `POST /upload/storage/v1/b/test-bucket/o?uploadType=media&name=${name} HTTP/1.1\r\n` +
      `Host: ${target.host}\r\nContent-Length: ${data.length}\r\nConnection: close\r\n\r\n`,
  );
  await new Promise<void>((r) => socket.write(data.subarray(0, sent), () => r()));
  return {
    async finish(): Promise<string> {
      socket.write(data.subarray(sent));
      await new Promise((r) => socket.once('close', r));
      return answer.split('\r\n')[0]!;
    },
  };
}

describe('spool serve on a data directory in use', () => {
  it('refuses to start, names the process using it, and leaves its uploads alone', async () => {
    const first = await SpoolProcess.start();
    try {
      const data = randomData(3 * 1024 * 1024);
      const upload = await uploadInProgress(first.url, 'in-flight', data, 1024 * 1024);
      // Long enough for the server to have written the first bytes to the upload's data file.
      await new Promise((r) => setTimeout(r, 200));

      const second = await serveOn(first.dataDir);
      assert.equal(second.code, 1);
      assert.match(
        second.stderr,
        new RegExp(
          `is in use by another spool serve \\(process ${first.child.pid}\\); stop that one first, or give this one another --data`,
        ),
      );

      // Another path to the same directory meets the same lock.
      const link = join(await scratch(), 'link');
      await symlink(first.dataDir, link);
      const throughLink = await serveOn(link);
      assert.equal(throughLink.code, 1);
      assert.match(throughLink.stderr, /is in use by another spool serve/);

      // A second server would have taken this upload's data file for a crash's leftover.
      assert.equal(await upload.finish(), 'HTTP/1.1 200 OK');
      const stored = await download(first.url, 'test-bucket', 'in-flight');
      assert.equal(stored.status, 200);
      assert.ok(stored.body.equals(data), 'the upload in progress kept every byte');
    } finally {
      await first.stop();
    }
  });

  it('starts at once on the directory of a server that was SIGKILLed', async () => {
    const first = await SpoolProcess.start();
    const next = await first.restart();
    try {
      const stored = await download(next.url, 'test-bucket', 'nothing-here');
      assert.equal(stored.status, 404);
    } finally {
      await next.stop();
    }
  });
});

describe('spool serve on a directory that is not its own', () => {
  it('refuses a directory that holds other files, and touches none of them', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const { code, stderr } = await serveOn(dir);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /is not empty and is not a Spool data directory; choose a new or empty directory for --data/,
    );
    assert.equal(await readFile(join(dir, 'notes.txt'), 'utf8'), 'mine');
  });

  it('refuses data of another format version', async () => {
    const dir = join(await scratch(), 'data');
    await mkdir(dir);
    const marker = JSON.stringify({ format: 'spool-data', version: 99 });
    await writeFile(join(dir, 'spool-data.json'), marker);
    const { code, stderr } = await serveOn(dir);
    assert.equal(code, 1);
    assert.match(stderr, /holds Spool data of version 99; this server reads version 1/);
    assert.equal(await readFile(join(dir, 'spool-data.json'), 'utf8'), marker);
  });
});
