// `spool sign`: a URL it prints is accepted by a server that trusts the key, for exactly the
// request it was signed for.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { send } from './harness/http.js';
import { SpoolProcess, repoRoot, runSpool } from './harness/spool-process.js';

const keyFile = `${repoRoot}/tests/fixtures/conformance/test_service_account.not-a-test.json`;
let spool: SpoolProcess;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-sign-'));
  await writeFile(join(dir, 'hmac'), 'GOOG1ESIGNTEST secretsecretsecret\n');
  // Tokens are required, so only the signature can let these requests in.
  await writeFile(join(dir, 'tokens'), 'unused-token-0123456789abcdef00\n');
  spool = await SpoolProcess.start({
    args: [
      '--signing-key',
      keyFile,
      '--hmac-key-file',
      join(dir, 'hmac'),
      '--token-file',
      join(dir, 'tokens'),
    ],
  });
});

describe('spool sign', () => {
  it('a resumable URL signed with a service account key starts a session without any other credential', async () => {
    const out = runSpool([
      'sign',
      '--resumable',
      '--key',
      keyFile,
      '--endpoint',
      spool.url,
      'gs://test-bucket/signed/by-cli.bin',
    ]);
    assert.equal(out.status, 0, out.stderr);
    const url = out.stdout.trim();
    assert.match(url, /X-Goog-Algorithm=GOOG4-RSA-SHA256/);
    assert.match(url, /X-Goog-SignedHeaders=host%3Bx-goog-resumable/);
    const start = await send({ method: 'POST', url, headers: { 'x-goog-resumable': 'start' } });
    assert.equal(start.status, 201, start.text());
    assert.equal(
      (await send({ method: 'PUT', url: start.headers.location!, body: 'from the cli' })).status,
      200,
    );
    const withoutHeader = await send({ method: 'POST', url });
    assert.equal(withoutHeader.status, 403, 'the signed header must be sent');
  });

  it('an HMAC-signed PUT URL uploads, and only with PUT', async () => {
    const out = runSpool([
      'sign',
      '--method',
      'put',
      '--hmac',
      'GOOG1ESIGNTEST:secretsecretsecret',
      '--endpoint',
      spool.url,
      '--expires',
      '2m',
      'gs://test-bucket/signed/hmac.bin',
    ]);
    assert.equal(out.status, 0, out.stderr);
    const url = out.stdout.trim();
    assert.equal((await send({ method: 'PUT', url, body: 'hmac' })).status, 200);
    assert.equal((await send({ method: 'GET', url })).status, 403);
  });

  it('refuses bad arguments with a non-zero exit status and a clear message', () => {
    const cases: [string[], RegExp][] = [
      [['sign', 'gs://b/o'], /either --key FILE or --hmac ID:SECRET/],
      [['sign', '--key', keyFile, 'not-a-url'], /not of the form gs:\/\/BUCKET\/OBJECT/],
      [['sign', '--key', keyFile, '--method', 'PATCH', 'gs://b/o'], /--method must be one of/],
      [['sign', '--key', keyFile, '--expires', '8d', 'gs://b/o'], /between 1s and 7d/],
      [['sign', '--hmac', 'nocolon', 'gs://b/o'], /ACCESS_ID:SECRET/],
      [['sign', '--key', '/nonexistent/key.json', 'gs://b/o'], /Cannot read signing key/],
    ];
    for (const [args, message] of cases) {
      const out = runSpool(args);
      assert.notEqual(out.status, 0, args.join(' '));
      assert.match(out.stderr, message, args.join(' '));
    }
  });
});

after(async () => {
  await spool.stop();
  await rm(dir, { recursive: true, force: true });
});
