import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferAllowance } from './buffer-allowance.js';

test('one holder gets the ceiling; many share the total, down to the floor', () => {
  const allowance = new BufferAllowance(64, 4, 32);
  assert.equal(allowance.share, 32);
  const members = Array.from({ length: 8 }, () => allowance.member());
  members[0]!.holding(10);
  assert.equal(allowance.share, 32);
  for (const m of members) m.holding(1);
  assert.equal(allowance.share, 8);
  for (let i = 0; i < 40; i++) allowance.member().holding(1);
  assert.equal(allowance.share, 4);
});

test('a member counts once while it holds bytes, and stops counting at zero', () => {
  const allowance = new BufferAllowance(60, 1, 60);
  const a = allowance.member();
  const b = allowance.member();
  a.holding(5);
  a.holding(7);
  b.holding(1);
  assert.equal(allowance.share, 30);
  a.holding(0);
  a.holding(0);
  assert.equal(allowance.share, 60);
  b.holding(0);
  assert.equal(allowance.share, 60);
});
