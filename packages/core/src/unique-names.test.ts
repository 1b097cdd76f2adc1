import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uniqueNames } from './unique-names.js';

test('uniqueNames: each source counts from its own random start', () => {
  const a = uniqueNames();
  const b = uniqueNames();
  const names = [a(), a(), b(), b()];
  assert.equal(new Set(names).size, 4);
  for (const name of names) assert.match(name, /^[0-9a-f]{32}-[0-9a-z]+$/);
  assert.equal(names[0]!.split('-')[0], names[1]!.split('-')[0]);
  assert.notEqual(names[0]!.split('-')[0], names[2]!.split('-')[0]);
});
