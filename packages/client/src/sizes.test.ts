import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from './sizes.js';

test('formatBytes: binary units, three significant digits at most, never negative', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(15 * 1024 * 1024 + 512 * 1024), '15.5 MiB');
  assert.equal(formatBytes(123456789), '118 MiB');
  assert.equal(formatBytes(5 * 1024 ** 3), '5.00 GiB');
  assert.equal(formatBytes(3 * 1024 ** 5), '3072 TiB');
  assert.equal(formatBytes(-5), '0 B');
});
