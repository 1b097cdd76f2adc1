// Browser uploads to a server that requires tokens (`--token-file`) and trusts a signing key, in
// Chromium: the upload page with a token typed in it, with a signed URL from `spool sign
// --resumable` in its link (resumed after a reload), and with a session URI an app's backend
// started; and the example app of examples/browser-upload, whose page on another origin uploads
// straight to Spool through the session its backend started with the page's Origin.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { BrowserRig, openUploadPage, waitForProgress, waitForRow } from './harness.js';
import { scratchDir, writeScratch } from '../harness/client.js';
import { MiB, download, initiate, md5Base64, query, storedBytes } from '../harness/gcs.js';
import { NodeServer, repoRoot, runSpool } from '../harness/spool-process.js';

const TOKEN = 'page-token-0123456789abcdef0123';
const auth = { authorization: `Bearer ${TOKEN}` };
const keyFile = `${repoRoot}/tests/fixtures/conformance/test_service_account.not-a-test.json`;
const dir = await scratchDir();
await writeFile(join(dir, 'tokens'), `${TOKEN}\n`);
const rig = BrowserRig.create({
  args: ['--token-file', join(dir, 'tokens'), '--signing-key', keyFile],
});

async function testFile(name: string, size: number): Promise<{ path: string; md5: string }> {
  const data = randomBytes(size);
  return { path: await writeScratch(dir, name, data), md5: md5Base64(data) };
}

/** The object as the server serves it to the token's holder. */
async function storedMd5(name: string): Promise<string> {
  const res = await download(rig.spool.url, 'test-bucket', name, auth);
  assert.equal(res.status, 200, `${name}: ${res.text()}`);
  return md5Base64(res.body);
}

async function uploaded(page: Page, target: string): Promise<void> {
  const row = await waitForRow(page, target, ['done', 'failed']);
  assert.equal(row.state, 'done', row.status);
}

describe('the upload page with tokens required', () => {
  after(() => assert.deepEqual(rig.browser.problems, []));

  it('asks for a token; the token typed in it uploads, lists, and gives download links', async () => {
    const file = await testFile('photo.jpg', 3 * MiB + 5);
    const page = await rig.browser.newPage();
    await openUploadPage(page, rig.spool.url);
    assert.match((await page.textContent('#access-note')) ?? '', /needs a bearer token/);
    await page.getByLabel('Access').fill(TOKEN);
    await page.getByRole('button', { name: 'Use' }).click();
    await page.waitForSelector('#bucket option[value="test-bucket"]', { state: 'attached' });
    await page.getByLabel('Folder').fill('token/');
    await page.dispatchEvent('#prefix', 'change');
    await page.setInputFiles('#files', [file.path]);
    await uploaded(page, 'gs://test-bucket/token/photo.jpg');
    assert.equal(await storedMd5('token/photo.jpg'), file.md5);

    // The list shows it, with a link that carries the token (a link cannot carry a header).
    await page.waitForFunction(() => document.querySelectorAll('#objects-body a').length === 1);
    const href = (await page.getAttribute('#objects-body a', 'href'))!;
    const res = await fetch(href);
    assert.equal(res.status, 200);
    assert.equal(md5Base64(Buffer.from(await res.arrayBuffer())), file.md5);
    assert.equal((await download(rig.spool.url, 'test-bucket', 'token/photo.jpg')).status, 401);
    // The token is kept for this tab only, never in the origin's lasting storage.
    assert.ok(!(await page.evaluate(() => JSON.stringify(localStorage))).includes(TOKEN));
    await page.close();
  });

  it('a link with a signed URL from `spool sign --resumable` uploads the chosen file to its object, and resumes it after a reload', async () => {
    const file = await testFile('draft.bin', 24 * MiB);
    const signed = runSpool([
      'sign',
      '--resumable',
      '--key',
      keyFile,
      '--endpoint',
      rig.proxy.url,
      'gs://test-bucket/signed/report.pdf',
    ]);
    assert.equal(signed.status, 0, signed.stderr);
    const target = 'gs://test-bucket/signed/report.pdf';
    const page = await rig.browser.newPage();
    await openUploadPage(
      page,
      `${rig.proxy.url}/#signed-url=${encodeURIComponent(signed.stdout.trim())}`,
    );
    assert.match(
      (await page.textContent('#access-note')) ?? '',
      /Uploading through a link: the file you choose goes to gs:\/\/test-bucket\/signed\/report\.pdf/,
    );
    rig.proxy.limitRate(8 * MiB);
    try {
      await page.setInputFiles('#files', [file.path]);
      await waitForProgress(page, target, 0.3);
      // The link stays in the address, so the reloaded page still uploads through it.
      await page.reload();
      await page.waitForSelector('body[data-ready]');
      const session = await page.evaluate(() =>
        Object.keys(localStorage)
          .filter((key) => key.startsWith('spool-upload:'))
          .map(
            (key) => (JSON.parse(localStorage.getItem(key)!) as { sessionUri: string }).sessionUri,
          ),
      );
      assert.equal(session.length, 1);
      const kept = storedBytes(await query(session[0]!.replace(rig.proxy.url, rig.spool.url)));
      assert.ok(kept > 0, 'the server kept part of the upload');
      await page.setInputFiles('#files', [file.path]);
      const row = await waitForRow(page, target, ['done', 'failed']);
      assert.equal(row.state, 'done', row.status);
      assert.match(row.status, /resumed where the server had/);
    } finally {
      rig.proxy.limitRate(undefined);
    }
    assert.equal(await storedMd5('signed/report.pdf'), file.md5);
    await page.close();
  });

  it('a session URI an app backend started for the page, pasted in the page, uploads without a token', async () => {
    const file = await testFile('scan.pdf', 700_000);
    const sessionUri = await initiate(rig.spool.url, 'test-bucket', 'from-backend/scan.pdf', {
      headers: { ...auth, origin: rig.spool.url },
    });
    const page = await rig.browser.newPage();
    await openUploadPage(page, rig.spool.url);
    await page.getByLabel('Access').fill(sessionUri);
    await page.getByRole('button', { name: 'Use' }).click();
    await page.setInputFiles('#files', [file.path]);
    await uploaded(page, 'the session you were given');
    assert.equal(await storedMd5('from-backend/scan.pdf'), file.md5);
    await page.close();
  });
});

describe('the example app (examples/browser-upload)', () => {
  let app: NodeServer;
  before(async () => {
    app = await NodeServer.start('examples/browser-upload/server.mjs', {
      SPOOL_URL: rig.spool.url,
      SPOOL_TOKEN: TOKEN,
      SPOOL_BUCKET: 'test-bucket',
    });
  });
  after(() => app?.stop());

  it('its page, on another origin, uploads straight to Spool through the session its backend started', async () => {
    assert.notEqual(new URL(app.url).origin, new URL(rig.spool.url).origin);
    const file = await testFile('holiday.mov', 6 * MiB + 1);
    const page = await rig.browser.newPage();
    await page.goto(app.url);
    await page.setInputFiles('#file', [file.path]);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="failed"]');
    assert.equal(
      await page.textContent('#status'),
      `Stored uploads/holiday.mov (${6 * MiB + 1} bytes).`,
    );
    assert.equal(await storedMd5('uploads/holiday.mov'), file.md5);
    assert.equal(await page.getAttribute('#progress', 'value'), '1');
    await page.close();
  });

  it('its backend starts sessions only for its own pages', async () => {
    const res = await fetch(`${app.url}/uploads`, {
      method: 'POST',
      headers: { origin: 'https://elsewhere.example', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', size: 1, type: '' }),
    });
    assert.equal(res.status, 403);
  });
});
