// The upload page that `spool serve` shows at /, driven in Chromium: files chosen or dropped
// reach the server byte-identical through cut connections, a killed and restarted server, the
// browser going offline, and a reload of the page in the middle of an upload. Every request goes
// through a TCP proxy, which counts the bytes the browser sends, cuts connections, and plays a
// slow uplink so that "the middle of an upload" lasts long enough to act in.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FileChooser, Page } from 'playwright-core';
import { BrowserRig, openUploadPage, rows, waitForProgress, waitForRow } from './harness.js';
import { objectMd5, scratchDir, writeScratch } from '../harness/client.js';
import { KiB, MiB, download, query, storedBytes } from '../harness/gcs.js';
import { scrape } from '../harness/metrics.js';

const dir = await scratchDir();
const rig = BrowserRig.create();

interface TestFile {
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly md5: string;
}

async function testFile(name: string, size: number): Promise<TestFile> {
  const data = randomBytes(size);
  return {
    name,
    path: await writeScratch(dir, name, data),
    size,
    md5: createHash('md5').update(data).digest('base64'),
  };
}

let small: TestFile;
let medium: TestFile;
let large: TestFile;

before(async () => {
  [small, medium, large] = await Promise.all([
    testFile('notes.txt', KiB),
    testFile('dataset.csv', 5 * MiB + 123),
    testFile('holiday-video.mp4', 50 * MiB),
  ]);
});

/** A fresh tab on the page (through the proxy), uploading into `folder`. */
async function pageIn(folder: string): Promise<Page> {
  const page = await rig.browser.newPage();
  await openUploadPage(page, rig.proxy.url);
  await page.fill('#prefix', folder);
  await page.dispatchEvent('#prefix', 'change');
  return page;
}

const target = (folder: string, file: TestFile) => `gs://test-bucket/${folder}${file.name}`;

async function assertStored(folder: string, file: TestFile): Promise<void> {
  assert.equal(
    await objectMd5(rig.spool.url, `${folder}${file.name}`),
    file.md5,
    `${file.name} differs`,
  );
}

/** The session the page remembers for `name` (the client's resume record), as the server sees it. */
/** Objects the server has stored so far, by upload type (from its metrics). */
async function storedByType(): Promise<{ multipart: number; resumable: number }> {
  const samples = await scrape(rig.spool.url);
  const count = (type: string) => samples.get(`spool_objects_stored_total{type="${type}"}`) ?? 0;
  return { multipart: count('multipart'), resumable: count('resumable') };
}

async function sessionOf(page: Page, name: string): Promise<string> {
  const uris = await page.evaluate(
    (name) =>
      Object.keys(localStorage)
        .filter((key) => key.startsWith('spool-upload:') && key.includes(name))
        .map(
          (key) => (JSON.parse(localStorage.getItem(key)!) as { sessionUri: string }).sessionUri,
        ),
    name,
  );
  assert.equal(uris.length, 1, `one remembered session for ${name}, not ${uris.length}`);
  return uris[0]!.replace(rig.proxy.url, rig.spool.url);
}

describe('the upload page', () => {
  after(() => assert.deepEqual(rig.browser.problems, []));

  it('three files from 1 KiB to 50 MiB chosen together are each stored byte-identical, listed, and downloadable', async () => {
    const page = await pageIn('three/');
    const storedBefore = await storedByType();
    await page.setInputFiles('#files', [small.path, medium.path, large.path]);
    for (const file of [small, medium, large]) {
      const row = await waitForRow(page, target('three/', file), ['done', 'failed']);
      assert.equal(row.state, 'done', row.status);
      await assertStored('three/', file);
    }
    // Up to 1 MiB, a file goes in one multipart request; larger ones through a session.
    const storedAfter = await storedByType();
    assert.equal(storedAfter.multipart - storedBefore.multipart, 1);
    assert.equal(storedAfter.resumable - storedBefore.resumable, 2);
    // The list of stored objects shows them, with links that serve the same bytes.
    await page.waitForFunction(() => document.querySelectorAll('#objects-body tr').length === 3);
    const links = await page.$$eval('#objects-body a', (as) =>
      as.map((a) => ({ name: a.textContent, href: (a as HTMLAnchorElement).href })),
    );
    assert.deepEqual(
      links.map((l) => l.name),
      ['three/dataset.csv', 'three/holiday-video.mp4', 'three/notes.txt'],
    );
    const notes = links.find((l) => l.name === 'three/notes.txt')!;
    const res = await fetch(notes.href);
    assert.equal(res.status, 200);
    const md5 = createHash('md5')
      .update(Buffer.from(await res.arrayBuffer()))
      .digest('base64');
    assert.equal(md5, small.md5);
    await page.close();
  });

  it('a file dropped on the page is uploaded', async () => {
    const page = await pageIn('dropped/');
    const dataTransfer = await page.evaluateHandle(() => {
      const bytes = new Uint8Array(300_000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 255;
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.bin', { type: 'application/octet-stream' }));
      return transfer;
    });
    await page.dispatchEvent('#drop', 'dragenter', { dataTransfer });
    assert.equal(await page.getAttribute('#drop', 'class'), 'card drop dragging');
    await page.dispatchEvent('#drop', 'drop', { dataTransfer });
    const row = await waitForRow(page, 'gs://test-bucket/dropped/dropped.bin', ['done', 'failed']);
    assert.equal(row.state, 'done', row.status);
    const expected = Buffer.alloc(300_000);
    for (let i = 0; i < expected.length; i++) expected[i] = (i * 31 + 7) & 255;
    const res = await download(rig.spool.url, 'test-bucket', 'dropped/dropped.bin');
    assert.ok(res.body.equals(expected));
    await page.close();
  });

  it('the network cut twice in the middle of a 50 MiB upload: it continues, byte-identical, sending little twice', async () => {
    const page = await pageIn('cut/');
    const start = rig.proxy.bytesUp;
    const body = rig.proxy.bodyBytesUp;
    rig.proxy.cutAt([start + 12 * MiB, start + 31 * MiB]);
    await page.setInputFiles('#files', [large.path]);
    const row = await waitForRow(page, target('cut/', large), ['done', 'failed']);
    assert.equal(row.state, 'done', row.status);
    assert.equal(rig.proxy.cuts.length, 2, 'both cuts happened during the upload');
    await assertStored('cut/', large);
    // Chromium resends a request whose reused connection was reset, silently; the page sends
    // 8 MiB chunks so that this costs at most a chunk per cut.
    const extra = rig.proxy.bodyBytesUp - body - large.size;
    assert.ok(extra <= 2 * 8 * MiB, `${extra} bytes sent more than once`);
    await page.close();
  });

  it('the server killed and restarted in the middle of an upload: it continues, byte-identical', async () => {
    const page = await pageIn('restart/');
    rig.proxy.limitRate(10 * MiB);
    try {
      await page.setInputFiles('#files', [large.path]);
      await waitForProgress(page, target('restart/', large), 0.3);
      rig.spool = await rig.spool.restart();
      rig.proxy.retarget(rig.spool.url);
      const row = await waitForRow(page, target('restart/', large), ['done', 'failed']);
      assert.equal(row.state, 'done', row.status);
    } finally {
      rig.proxy.limitRate(undefined);
    }
    await assertStored('restart/', large);
    await page.close();
  });

  it('offline in the middle of an upload: it says so, waits, and continues when the network is back', async () => {
    const page = await pageIn('offline/');
    rig.proxy.limitRate(10 * MiB);
    try {
      await page.setInputFiles('#files', [large.path]);
      await waitForProgress(page, target('offline/', large), 0.2);
      await rig.browser.context.setOffline(true);
      const offline = await waitForRow(page, target('offline/', large), ['offline'], 10_000);
      assert.match(offline.status, /Offline/);
      // Long enough for several failed attempts, were it not waiting.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal((await rows(page))[0]!.state, 'offline');
      await rig.browser.context.setOffline(false);
      const row = await waitForRow(page, target('offline/', large), ['done', 'failed']);
      assert.equal(row.state, 'done', row.status);
    } finally {
      await rig.browser.context.setOffline(false);
      rig.proxy.limitRate(undefined);
    }
    await assertStored('offline/', large);
    await page.close();
  });

  it('reloaded in the middle of an upload, the same file chosen again resumes from the server offset, sending under 1.1x its size', async (t) => {
    const page = await pageIn('reload/');
    rig.proxy.limitRate(8 * MiB);
    const sentBefore = rig.proxy.bytesUp;
    try {
      await page.setInputFiles('#files', [large.path]);
      await waitForProgress(page, target('reload/', large), 0.4);
      await page.reload();
      await page.waitForSelector('body[data-ready]');
      // The page says which file to choose again.
      const interrupted = await page.textContent('#interrupted-section:not([hidden])');
      assert.match(
        interrupted ?? '',
        /holiday-video\.mp4 \(50\.0 MiB\) to gs:\/\/test-bucket\/reload\/holiday-video\.mp4/,
      );
      const kept = storedBytes(await query(await sessionOf(page, large.name)));
      assert.ok(kept > 0, 'the server kept part of the upload');
      const requestsBefore = rig.proxy.requests.length;
      await page.setInputFiles('#files', [large.path]);
      const row = await waitForRow(page, target('reload/', large), ['done', 'failed']);
      assert.equal(row.state, 'done', row.status);
      assert.match(row.status, /resumed where the server had/);
      // The first bytes sent after the reload are the first the server did not have.
      const resumedAt = rig.proxy.requests.slice(requestsBefore).find((r) => r.first !== undefined);
      assert.equal(resumedAt?.first, kept);
    } finally {
      rig.proxy.limitRate(undefined);
    }
    const sent = rig.proxy.bytesUp - sentBefore;
    const ratio = sent / large.size;
    t.diagnostic(
      `bytes sent by the browser, page loads included: ${sent} for a ${large.size}-byte file (${ratio.toFixed(4)}x)`,
    );
    assert.ok(ratio < 1.1, `${ratio}x`);
    await assertStored('reload/', large);
    assert.equal(await page.isHidden('#interrupted-section'), true);
    await page.close();
  });
});

describe('pause, resume and cancel', () => {
  after(() => assert.deepEqual(rig.browser.problems, []));

  it('pause stops sending, resume continues to a byte-identical object, cancel drops the session; a screenshot of it all', async () => {
    const backup = await testFile('backup.tar', 20 * MiB);
    const slides = await testFile('slides.pdf', 2 * MiB);
    const folder = 'controls/';
    const page = await pageIn(folder);
    const row = (file: TestFile) => page.locator('.upload', { hasText: file.name });
    const click = (file: TestFile, verb: string) =>
      row(file)
        .getByRole('button', { name: `${verb} ${file.name}` })
        .click();
    await page.setInputFiles('#files', [small.path]);
    await waitForRow(page, target(folder, small), ['done']);
    rig.proxy.limitRate(6 * MiB);
    try {
      await page.setInputFiles('#files', [large.path, medium.path, backup.path, slides.path]);
      await waitForProgress(page, target(folder, medium), 0.1);
      await click(medium, 'Pause');
      await waitForRow(page, target(folder, medium), ['paused']);
      const mediumSession = await sessionOf(page, medium.name);
      const pausedAt = storedBytes(await query(mediumSession));
      assert.ok(pausedAt > 0, 'the server kept part of the abandoned request');
      // The page asks the server too: the bar shows what is stored, and nothing merely sent.
      await waitForProgress(page, target(folder, medium), pausedAt / medium.size, 'stored');
      const barAt = (await rows(page)).find((r) => r.target === target(folder, medium))!;
      assert.equal(barAt.stored, pausedAt / medium.size);
      assert.equal(barAt.progress, barAt.stored);
      // A chunk of the big one stored, and a speed and a time left to show.
      await waitForProgress(page, target(folder, large), 8 / 50, 'stored');
      await row(large).locator('.eta', { hasText: 'left' }).waitFor();

      // The screenshot in the README: done, uploading (speed, time left), paused, waiting.
      assert.deepEqual(
        (await rows(page)).map((r) => r.state),
        ['done', 'uploading', 'paused', 'uploading', 'queued'],
      );
      const shot = process.env['SPOOL_SCREENSHOT'] ?? join(dir, 'upload-page.png');
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok((await stat(shot)).size > 20_000);

      // Nothing moved while paused: not the bar, not the server's count.
      assert.equal(storedBytes(await query(mediumSession)), pausedAt);
      const barNow = (await rows(page)).find((r) => r.target === target(folder, medium))!;
      assert.deepEqual(barNow, barAt);

      // Cancel the waiting one (it never starts) and the big one (its session is cancelled).
      const largeSession = await sessionOf(page, large.name);
      await click(slides, 'Cancel');
      await click(large, 'Cancel');
      await waitForRow(page, target(folder, slides), ['cancelled']);
      await waitForRow(page, target(folder, large), ['cancelled']);
      await page.waitForFunction(
        (name) => !Object.keys(localStorage).some((key) => key.includes(name)),
        large.name,
      );
      assert.equal((await query(largeSession)).status, 410, 'the session is cancelled');

      await click(medium, 'Resume');
      for (const file of [medium, backup]) {
        const done = await waitForRow(page, target(folder, file), ['done', 'failed']);
        assert.equal(done.state, 'done', done.status);
      }
    } finally {
      rig.proxy.limitRate(undefined);
    }
    await assertStored(folder, medium);
    await assertStored(folder, backup);
    for (const name of [large.name, slides.name]) {
      const res = await download(rig.spool.url, 'test-bucket', `${folder}${name}`);
      assert.equal(res.status, 404, `${name} was not stored`);
    }
    await page.close();
  });
});

describe('keyboard and assistive technology', () => {
  after(() => assert.deepEqual(rig.browser.problems, []));

  it('works from the keyboard alone: files chosen, paused and resumed, the focus kept on the button', async () => {
    const page = await pageIn('keyboard/');
    const focused = () =>
      page.evaluate(() => {
        const element = document.activeElement;
        return element?.getAttribute('aria-label') ?? element?.id ?? '';
      });
    const tabTo = async (name: string) => {
      for (let i = 0; i < 20 && (await focused()) !== name; i++) await page.keyboard.press('Tab');
      assert.equal(await focused(), name);
    };
    rig.proxy.limitRate(6 * MiB);
    try {
      // A tab in the background opens no file chooser.
      await page.bringToFront();
      await page.focus('#bucket');
      await tabTo('files');
      const chooser = await chooserFromSpace(page);
      await chooser.setFiles([large.path]);
      await waitForProgress(page, target('keyboard/', large), 0.1);
      await tabTo(`Pause ${large.name}`);
      await page.keyboard.press('Enter');
      await waitForRow(page, target('keyboard/', large), ['paused']);
      // The same button, relabelled, so the focus stays where the person is.
      assert.equal(await focused(), `Resume ${large.name}`);
      assert.deepEqual(await contrastProblems(page), []);
      rig.proxy.limitRate(undefined);
      await page.keyboard.press('Enter');
      const row = await waitForRow(page, target('keyboard/', large), ['done', 'failed']);
      assert.equal(row.state, 'done', row.status);
    } finally {
      rig.proxy.limitRate(undefined);
    }
    await assertStored('keyboard/', large);
    await page.close();
  });

  it('names every control, bar and region, announces changes, and has text that contrasts with its background, light and dark', async () => {
    const page = await pageIn('named/');
    await page.setInputFiles('#files', [small.path]);
    await waitForRow(page, target('named/', small), ['done']);
    await page.getByLabel('Access').fill('not a token');
    await page.getByRole('button', { name: 'Use' }).click();
    await page.getByText('A bearer token has no spaces.').waitFor();
    const tree = await page.locator('body').ariaSnapshot();
    // An unnamed control is a role without a quoted name in the snapshot.
    const unnamed = tree
      .split('\n')
      .filter((line) =>
        /^\s*- (button|link|textbox|combobox|progressbar|table|region)\b(?! ")/.test(line),
      );
    assert.deepEqual(unnamed, []);
    for (const expected of [
      /- combobox "Bucket"/,
      /- textbox "Folder \(optional\)"/,
      /- button "Choose files"/,
      /- progressbar "notes\.txt"/,
      /- status: Done/,
      /- link "Download"/,
      /- table "Stored objects"/,
      /- link "named\/notes\.txt"/,
    ]) {
      assert.match(tree, expected);
    }
    assert.equal(
      await page.getAttribute('[role=progressbar]', 'aria-valuetext'),
      '1.00 KiB of 1.00 KiB stored',
    );
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      // Colours change through short transitions: measure where they end.
      await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
      assert.deepEqual(await contrastProblems(page), [], colorScheme);
    }
    await page.close();
  });
});

/**
 * Visible text whose contrast with what is behind it is under WCAG AA's 4.5:1 (3:1 for large
 * text), as "ratio: text".
 */
/**
 * Presses Space on the focused file input until the file chooser opens. Once, in a fresh-clone CI
 * run, Chromium opened none within 30 s of the press (the focus was on the input); pressing again
 * is what a person would do.
 */
async function chooserFromSpace(page: Page): Promise<FileChooser> {
  for (let attempt = 1; ; attempt++) {
    const opened = page.waitForEvent('filechooser', { timeout: 10_000 });
    await page.keyboard.press('Space');
    try {
      return await opened;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

function contrastProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type Rgba = [number, number, number, number];
    const parse = (css: string): Rgba => {
      const rgb = /^rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)$/.exec(css);
      if (rgb) return [+rgb[1]!, +rgb[2]!, +rgb[3]!, rgb[4] === undefined ? 1 : +rgb[4]];
      const srgb = /^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.]+))?\)$/.exec(css);
      if (srgb) {
        const alpha = srgb[4] === undefined ? 1 : +srgb[4];
        return [+srgb[1]! * 255, +srgb[2]! * 255, +srgb[3]! * 255, alpha];
      }
      throw new Error(`unexpected color ${css}`);
    };
    const over = (top: Rgba, below: Rgba): Rgba => [
      top[0] * top[3] + below[0] * (1 - top[3]),
      top[1] * top[3] + below[1] * (1 - top[3]),
      top[2] * top[3] + below[2] * (1 - top[3]),
      1,
    ];
    const luminance = ([r, g, b]: Rgba) => {
      const linear = (c: number) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    };
    const canvas: Rgba = matchMedia('(prefers-color-scheme: dark)').matches
      ? [18, 18, 18, 1]
      : [255, 255, 255, 1];
    const background = (element: Element): Rgba => {
      const layers: Rgba[] = [];
      for (let e: Element | null = element; e; e = e.parentElement) {
        layers.push(parse(getComputedStyle(e).backgroundColor));
      }
      return layers.reduceRight((below, top) => over(top, below), canvas);
    };
    const problems: string[] = [];
    for (const element of document.querySelectorAll('body *')) {
      const text = [...element.childNodes]
        .filter((n) => n.nodeType === Node.TEXT_NODE)
        .map((n) => n.textContent ?? '')
        .join('')
        .trim();
      if (text === '' || !element.checkVisibility() || (element as HTMLButtonElement).disabled) {
        continue;
      }
      const style = getComputedStyle(element);
      const back = background(element);
      const fore = over(parse(style.color), back);
      const [light, dark] = [luminance(fore), luminance(back)].sort((a, b) => b - a) as [
        number,
        number,
      ];
      const ratio = (light + 0.05) / (dark + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) problems.push(`${ratio.toFixed(2)}: ${text.slice(0, 60)}`);
    }
    return problems;
  });
}
