import {
  CancelledError,
  RateMeter,
  secondsLeft,
  formatBytes,
  type ObjectResource,
  type Upload,
} from '@spool/client/browser';
import { h } from './dom.js';
import { formatDuration, formatPercent, formatRate } from './format.js';
import { ProgressBar } from './progress-bar.js';

export type RowState =
  | 'queued'
  | 'starting'
  | 'uploading'
  | 'paused'
  | 'offline'
  | 'retrying'
  | 'done'
  | 'failed'
  | 'cancelled';

/** What a row needs from the page. */
export interface RowHost {
  /** Runs `task` when a slot is free; the function returned takes it out of the queue. */
  schedule(task: () => Promise<void>): () => boolean;
  /** How many bytes the server has of a session (a status query), if it says. */
  stored(sessionUri: string): Promise<number | undefined>;
  /** Where the finished object can be downloaded, if the page may say. */
  downloadUrl(object: ObjectResource): string | undefined;
  /** A session started (not resumed): the upload can now be resumed after a reload. */
  started(row: UploadRow): void;
  /** The upload ended, one way or another. */
  ended(row: UploadRow): void;
}

const FINAL: readonly RowState[] = ['done', 'failed', 'cancelled'];

/** One file's upload: its list item, and what its buttons do. */
export class UploadRow {
  readonly element: HTMLLIElement;
  state: RowState = 'queued';
  /** Why it failed, when it did. */
  lastError: Error | undefined;
  private task: Upload | undefined;
  private unqueue: (() => boolean) | undefined;
  private readonly meter = new RateMeter();
  /** Bytes the server has confirmed. */
  private stored = 0;
  /** Bytes the network has taken that the server may not have yet (what the light bar shows). */
  private sent = 0;
  /**
   * Where sending (re)started: bytes transmitted since then count from this offset. After a
   * pause or a failure, what was only sent is lost and goes again; the client's own `sent`
   * never goes back, so the page counts from here instead.
   */
  private anchor = { offset: 0, transmitted: 0 };
  private transmitted = 0;
  private total: number;
  private resumedFrom: number | undefined;
  private resuming = false;
  private retryAt = 0;
  private message = '';
  private object: ObjectResource | undefined;

  private readonly bar: ProgressBar;
  private readonly numbers: HTMLElement;
  private readonly speed: HTMLElement;
  private readonly eta: HTMLElement;
  private readonly status: HTMLElement;
  private readonly primary: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly download: HTMLAnchorElement;

  constructor(
    readonly file: File,
    /** Where it goes, as shown: gs://bucket/object. */
    readonly target: string,
    /** A new Upload of the file: a retry after a failure gets a new one, which resumes. */
    private readonly createTask: () => Upload,
    private readonly host: RowHost,
  ) {
    this.total = file.size;
    const id = `upload-${Math.random().toString(36).slice(2)}`;
    this.bar = new ProgressBar(`${id}-name`);
    this.numbers = h('span', { class: 'numbers' });
    this.speed = h('span', { class: 'speed' });
    this.eta = h('span', { class: 'eta' });
    this.status = h('p', { class: 'status', role: 'status' });
    this.primary = h('button', { type: 'button', 'data-action': 'primary' });
    this.primary.addEventListener('click', () => this.primaryAction());
    this.cancelButton = h(
      'button',
      {
        type: 'button',
        class: 'quiet',
        'data-action': 'cancel',
        'aria-label': `Cancel ${file.name}`,
      },
      'Cancel',
    );
    this.cancelButton.addEventListener('click', () => void this.cancel());
    this.download = h(
      'a',
      { class: 'button quiet', download: file.name, hidden: true },
      'Download',
    );
    const actions = h('div', { class: 'actions' }, this.primary, this.cancelButton, this.download);
    this.element = h(
      'li',
      { class: 'upload', 'data-target': target },
      h(
        'div',
        { class: 'upload-head' },
        h('span', { class: 'name', id: `${id}-name` }, file.name),
        h('span', { class: 'target' }, target),
      ),
      this.bar.element,
      h('div', { class: 'upload-meta' }, this.numbers, this.speed, this.eta),
      this.status,
      actions,
    );
  }

  /** Waits for a free slot, then uploads. */
  enqueue(): void {
    this.set('queued');
    this.unqueue = this.host.schedule(() => this.run());
  }

  get finished(): boolean {
    return FINAL.includes(this.state);
  }

  /** Redraws what changes with time alone: speed, time left, a retry's countdown. */
  tick(now: number): void {
    if (this.finished || this.state === 'queued') return;
    const moving = this.state === 'uploading';
    const rate = moving ? this.meter.rate(now) : undefined;
    this.speed.textContent = formatRate(rate);
    const left = moving ? secondsLeft(this.total - this.sent, rate) : undefined;
    this.eta.textContent = left === undefined ? '' : `${formatDuration(left)} left`;
    if (this.state === 'retrying') this.renderStatus(now);
  }

  private async run(): Promise<void> {
    this.unqueue = undefined;
    this.resumedFrom = undefined;
    this.lastError = undefined;
    // A new Upload counts its bytes from 0 again.
    this.transmitted = 0;
    this.interrupted();
    this.set('starting');
    try {
      this.object = await this.watch((this.task = this.createTask())).start();
      this.stored = this.sent = this.total;
      this.set('done');
    } catch (error) {
      if (error instanceof CancelledError || this.state === 'cancelled') this.set('cancelled');
      else {
        this.lastError = error as Error;
        this.message = (error as Error).message;
        this.set('failed');
      }
    }
    this.host.ended(this);
  }

  /** Follows the upload's events on the page. */
  private watch(task: Upload): Upload {
    task.on('session', ({ resumed, replaced }) => {
      this.resuming = resumed;
      if (replaced) {
        this.stored = this.sent = 0;
        this.anchor = { offset: 0, transmitted: this.transmitted };
        this.meter.reset();
      }
      if (!resumed) this.host.started(this);
    });
    task.on('progress', (p) => {
      if (this.resuming && p.acknowledged > 0) this.resumedFrom = p.acknowledged;
      this.resuming = false;
      this.transmitted = p.transmitted;
      if (p.acknowledged !== this.stored) {
        this.stored = p.acknowledged;
        this.anchor = { offset: p.acknowledged, transmitted: p.transmitted };
      }
      this.sent = Math.min(p.sent, this.anchor.offset + p.transmitted - this.anchor.transmitted);
      if (p.total !== undefined) this.total = p.total;
      this.meter.add(performance.now(), p.transmitted);
      if (this.state === 'starting' || this.state === 'retrying') this.set('uploading');
      else this.render();
    });
    task.on('retry', ({ delay, error }) => {
      this.interrupted();
      if (this.state === 'offline' || this.state === 'paused') return;
      this.retryAt = performance.now() + delay;
      this.message = error.message;
      this.set('retrying');
    });
    task.on('network', ({ online }) => {
      if (!online) this.interrupted();
      if (this.state === 'paused') return;
      this.set(online ? 'uploading' : 'offline');
    });
    return task;
  }

  private pause(): void {
    this.task?.pause();
    this.interrupted();
    this.set('paused');
    void this.askStored();
  }

  /** The server may have kept part of the request a pause abandoned: show what it has. */
  private async askStored(): Promise<void> {
    const uri = this.task?.sessionUri;
    if (uri === undefined) return;
    const stored = await this.host.stored(uri).catch(() => undefined);
    if (stored === undefined || stored <= this.stored || this.state !== 'paused') return;
    this.stored = stored;
    this.interrupted();
    this.render();
  }

  /** The request in flight is gone: what it sent beyond what is stored will go again. */
  private interrupted(): void {
    this.anchor = { offset: this.stored, transmitted: this.transmitted };
    this.sent = this.stored;
    this.meter.reset();
  }

  private resume(): void {
    this.meter.reset();
    this.task?.resume();
    this.set('uploading');
  }

  private async cancel(): Promise<void> {
    if (this.unqueue?.()) {
      this.set('cancelled');
      this.host.ended(this);
      return;
    }
    this.set('cancelled');
    try {
      await this.task?.cancel();
    } catch (error) {
      this.message = `The server could not be told (${(error as Error).message}); the session expires on its own.`;
      this.render();
    }
  }

  private set(state: RowState): void {
    this.state = state;
    this.element.dataset['state'] = state;
    this.render();
  }

  private render(): void {
    this.bar.update(this.stored, this.sent, this.total);
    this.numbers.textContent =
      this.state === 'done'
        ? `${formatBytes(this.total)} stored`
        : `${formatBytes(this.sent)} of ${formatBytes(this.total)} sent (${formatPercent(this.sent, this.total)}), ${formatBytes(this.stored)} stored`;
    if (this.state !== 'uploading') {
      this.speed.textContent = '';
      this.eta.textContent = '';
    }
    this.renderStatus(performance.now());
    this.renderActions();
  }

  private renderStatus(now: number): void {
    const resumed =
      this.resumedFrom === undefined
        ? ''
        : ` — resumed where the server had ${formatBytes(this.resumedFrom)}`;
    const text: Record<RowState, string> = {
      queued: 'Waiting for a free slot',
      starting: 'Starting',
      uploading: `Uploading${resumed}`,
      paused: 'Paused',
      offline: 'Offline — continues when the network is back',
      retrying: `Connection problem; trying again in ${formatDuration(Math.max(0, (this.retryAt - now) / 1000)) || '0 s'}. ${this.message}`,
      done: `Done${resumed}`,
      failed: `Failed: ${this.message}`,
      cancelled: this.message ? `Cancelled. ${this.message}` : 'Cancelled',
    };
    const value = text[this.state];
    // Only real changes: a live region that repeats itself every second is noise.
    if (this.status.textContent !== value) this.status.textContent = value;
  }

  private primaryAction(): void {
    switch (this.state) {
      case 'paused':
        return this.resume();
      case 'failed':
        return this.enqueue();
      case 'starting':
      case 'uploading':
      case 'offline':
      case 'retrying':
        return this.pause();
      default:
        return;
    }
  }

  /** The same buttons throughout, relabelled: one that vanished would take the focus with it. */
  private renderActions(): void {
    const verb: Partial<Record<RowState, string>> = {
      starting: 'Pause',
      uploading: 'Pause',
      offline: 'Pause',
      retrying: 'Pause',
      paused: 'Resume',
      failed: 'Try again',
    };
    const primary = verb[this.state];
    this.primary.hidden = primary === undefined;
    if (primary !== undefined && this.primary.textContent !== primary) {
      this.primary.textContent = primary;
      this.primary.setAttribute('aria-label', `${primary} ${this.file.name}`);
    }
    this.cancelButton.hidden = this.finished;
    const href = this.state === 'done' && this.object && this.host.downloadUrl(this.object);
    this.download.hidden = !href;
    if (href) this.download.href = href;
  }
}
