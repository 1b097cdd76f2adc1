// `spool serve --metadata … --blobs …`: settings it refuses, and backends it cannot use, each
// with a message that says what to do, and an exit (no process left hanging on a connection).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { freshDatabase, s3Env, TestBucket } from './harness/backends.js';
import { serveUntilExit, spoolBin } from './harness/spool-process.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
let bucket: TestBucket;
before(async () => {
  database = await freshDatabase();
  bucket = await TestBucket.create();
});
after(async () => {
  await bucket.remove();
  await database.drop();
});

/** Runs `spool serve` with these arguments and the S3 settings until it exits. */
function serve(args: string[], env: Record<string, string> = {}) {
  return serveUntilExit(args, { ...s3Env(), ...env });
}

describe('spool serve in distributed mode', () => {
  it('needs --metadata and --blobs together', async () => {
    const { code, stderr } = await serve(['--metadata', database.url]);
    assert.equal(code, 2);
    assert.match(stderr, /--metadata and --blobs go together/);
  });

  it('refuses --data, since nothing is kept on local disk', async () => {
    const args = ['--metadata', database.url, '--blobs', `s3://${bucket.name}`, '--data', 'd'];
    const { code, stderr } = await serve(args);
    assert.equal(code, 2);
    assert.match(stderr, /--data cannot be used with --metadata and --blobs/);
    const fromEnv = await serve(args.slice(0, 4), { SPOOL_DATA: 'd' });
    assert.equal(fromEnv.code, 2);
  });

  it('explains a malformed URL', async () => {
    const notPostgres = await serve(['--metadata', 'mysql://x', '--blobs', `s3://${bucket.name}`]);
    assert.equal(notPostgres.code, 1);
    assert.match(notPostgres.stderr, /--metadata must be a PostgreSQL URL/);
    const notS3 = await serve(['--metadata', database.url, '--blobs', 'https://x/y']);
    assert.equal(notS3.code, 1);
    assert.match(notS3.stderr, /--blobs must look like s3:\/\/BUCKET/);
  });

  it('explains a bucket that does not exist, and exits', async () => {
    const { code, stderr } = await serve([
      '--metadata',
      database.url,
      '--blobs',
      's3://no-such-bucket-for-spool/x',
    ]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /The S3 bucket "no-such-bucket-for-spool" does not exist; create it first/,
    );
  });

  it('exits when PostgreSQL cannot be reached', async () => {
    const url = new URL(database.url);
    url.port = '1';
    const { code, stderr } = await serve([
      '--metadata',
      url.href,
      '--blobs',
      `s3://${bucket.name}`,
    ]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /PostgreSQL at 127\.0\.0\.1:1\/spool_test_\w+ \(--metadata\) cannot be reached/,
    );
  });

  it('exits when its port is taken, closing its connections', async () => {
    const storage = ['--metadata', database.url, '--blobs', `s3://${bucket.name}`];
    const first = spawn(process.execPath, [spoolBin, 'serve', '--port', '0', ...storage], {
      env: { ...process.env, ...s3Env() },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const line = await new Promise<string>((resolve) =>
        first.stdout.once('data', (c: Buffer) => resolve(c.toString())),
      );
      const port = /:(\d+)\s*$/.exec(line)![1]!;
      const second = await serve([...storage, '--port', port]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /EADDRINUSE/);
    } finally {
      first.kill('SIGTERM');
    }
  });
});
