import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, renderProgress } from './progress-bar.js';

describe('progress bar', () => {
  it('shows what was sent, what is stored, speed and time left', () => {
    const line = renderProgress(
      {
        sent: 64 * 1024 ** 2,
        acknowledged: 32 * 1024 ** 2,
        transmitted: 0,
        total: 256 * 1024 ** 2,
      },
      16 * 1024 ** 2,
      8,
    );
    assert.equal(
      line,
      '[##------]  25%  64.0 MiB / 256 MiB  stored 32.0 MiB  16.0 MiB/s  ETA 0:12',
    );
  });

  it('has no bar and no estimate for a stream of unknown length', () => {
    const line = renderProgress(
      { sent: 1500, acknowledged: 0, transmitted: 1500, total: undefined },
      undefined,
    );
    assert.equal(line, '1.46 KiB  stored 0 B');
  });

  it('formats durations', () => {
    assert.equal(formatDuration(59.6), '1:00');
    assert.equal(formatDuration(3725), '1:02:05');
  });
});
