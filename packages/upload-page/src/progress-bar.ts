import { h } from './dom.js';
import { formatBytes } from '@spool/client/browser';

/**
 * Two measures in one bar: what the server has confirmed storing (solid), and ahead of it what
 * the network has taken but the server has not confirmed yet (light). Socket buffers hold
 * megabytes, so bytes "sent" are a promise; only stored ones are certain.
 */
export class ProgressBar {
  readonly element: HTMLElement;
  private readonly storedFill: HTMLElement;
  private readonly sentFill: HTMLElement;

  constructor(labelledBy: string) {
    this.storedFill = h('span', { class: 'bar-stored' });
    this.sentFill = h('span', { class: 'bar-sent' });
    this.element = h(
      'div',
      {
        class: 'bar',
        role: 'progressbar',
        'aria-labelledby': labelledBy,
        'aria-valuemin': 0,
        'aria-valuemax': 1,
        'aria-valuenow': 0,
      },
      this.sentFill,
      this.storedFill,
    );
  }

  update(stored: number, sent: number, total: number): void {
    const max = Math.max(total, 1);
    const fraction = (n: number) => `${Math.min(100, (Math.max(0, n) / max) * 100)}%`;
    this.storedFill.style.width = fraction(stored);
    this.sentFill.style.width = fraction(Math.max(sent, stored));
    const e = this.element;
    e.setAttribute('aria-valuemax', String(max));
    e.setAttribute('aria-valuenow', String(stored));
    e.setAttribute('aria-valuetext', `${formatBytes(stored)} of ${formatBytes(total)} stored`);
    e.dataset['sent'] = String(Math.max(sent, stored));
  }
}
