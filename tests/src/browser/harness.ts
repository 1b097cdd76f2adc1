import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SpoolProcess, type SpoolProcessOptions } from '../harness/spool-process.js';
import { TcpProxy } from '../harness/tcp-proxy.js';

/** Debian's Chromium (scripts/system-packages.sh installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * This machine's network is closed: whatever Chromium would fetch in the background (updates,
 * sync, field trials) only slows it down. QUIC is off so that every request is HTTP/1.1 over TCP,
 * through the test's proxy when there is one.
 */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Chromium with a profile of its own, driven by playwright-core. */
export class Browser {
  /**
   * Uncaught errors of every page, to fail a test that caused any. (Not console errors: Chromium
   * logs every failed request there, and the tests fail requests on purpose.)
   */
  readonly problems: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    private readonly profile: string,
  ) {}

  static async launch(): Promise<Browser> {
    const profile = await mkdtemp(join(tmpdir(), 'spool-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1100, height: 900 },
    });
    return new Browser(context, profile);
  }

  async newPage(): Promise<Page> {
    const page = await this.context.newPage();
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message}`));
    return page;
  }

  async close(): Promise<void> {
    await this.context.close();
    await rm(this.profile, { recursive: true, force: true });
  }
}

/**
 * What a browser suite runs against: a real `spool serve`, a TCP proxy in front of it (which
 * counts, cuts and slows what the browser sends), and Chromium, started by a top-level `before`
 * hook and stopped after the file's tests. Hooks that use them belong in `describe` blocks, which
 * run theirs later. A test that restarts the server puts the new process in `spool`.
 */
export class BrowserRig {
  spool!: SpoolProcess;
  proxy!: TcpProxy;
  browser!: Browser;

  private constructor() {}

  static create(options: SpoolProcessOptions = {}): BrowserRig {
    const rig = new BrowserRig();
    before(async () => {
      rig.spool = await SpoolProcess.start(options);
      rig.proxy = await TcpProxy.start(rig.spool.url);
      rig.browser = await Browser.launch();
    });
    after(async () => {
      await rig.browser?.close();
      await rig.proxy?.close();
      await rig.spool?.stop();
    });
    return rig;
  }
}

/** The upload page as a test drives it: its rows are `.upload` items with a `data-state`. */
export interface RowView {
  readonly target: string;
  readonly state: string;
  readonly status: string;
  /** How far the bar shows bytes sent, 0 to 1. */
  readonly progress: number;
  /** How far it shows bytes the server confirmed storing, 0 to 1. */
  readonly stored: number;
}

export async function openUploadPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-ready]');
}

export function rows(page: Page): Promise<RowView[]> {
  return page.$$eval('.upload', (items) =>
    items.map((item) => {
      const bar = item.querySelector('[role=progressbar]') as HTMLElement;
      const max = Number(bar.getAttribute('aria-valuemax'));
      return {
        target: item.getAttribute('data-target') ?? '',
        state: item.getAttribute('data-state') ?? '',
        status: item.querySelector('.status')?.textContent ?? '',
        progress: Number(bar.dataset['sent']) / max,
        stored: Number(bar.getAttribute('aria-valuenow')) / max,
      };
    }),
  );
}

/** Waits until the row for `target` is in one of `states`. */
export async function waitForRow(
  page: Page,
  target: string,
  states: readonly string[],
  timeout = 120_000,
): Promise<RowView> {
  await page.waitForFunction(
    ({ target, states }) =>
      [...document.querySelectorAll('.upload')].some(
        (item) =>
          item.getAttribute('data-target') === target &&
          states.includes(item.getAttribute('data-state') ?? ''),
      ),
    { target, states },
    { timeout, polling: 50 },
  );
  return (await rows(page)).find((row) => row.target === target)!;
}

/**
 * Waits until the row for `target` shows at least `fraction` of its bytes sent (or stored, when
 * `measure` says so).
 */
export async function waitForProgress(
  page: Page,
  target: string,
  fraction: number,
  measure: 'progress' | 'stored' = 'progress',
  timeout = 120_000,
): Promise<void> {
  await page.waitForFunction(
    ({ target, fraction, measure }) =>
      [...document.querySelectorAll('.upload')].some((item) => {
        const bar = item.querySelector('[role=progressbar]') as HTMLElement;
        const value =
          measure === 'stored' ? bar.getAttribute('aria-valuenow') : bar.dataset['sent'];
        const shown = Number(value) / Number(bar.getAttribute('aria-valuemax'));
        return item.getAttribute('data-target') === target && shown >= fraction;
      }),
    { target, fraction, measure },
    { timeout, polling: 50 },
  );
}
