import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { CHUNK_GRANULARITY, UploadHasher } from '@spool/core';
import { HashStream } from './hash-offload.js';

/** The state a hasher reaches over `bytes` from scratch, in one go. */
function stateOf(bytes: Uint8Array) {
  const hasher = new UploadHasher();
  hasher.update(bytes);
  return hasher.save();
}

test('the hashes are the same whether bytes stay in place or move to the hashing thread', async () => {
  const MiB = 1024 * 1024;
  for (const size of [0, 100, CHUNK_GRANULARITY, MiB - 1, MiB + 1, 3 * MiB + 123]) {
    const bytes = randomBytes(size);
    const stream = HashStream.open(new UploadHasher().save());
    try {
      // Pieces of uneven sizes, as a socket gives them.
      for (let p = 0, step = 1000; p < size; p += step, step = (step * 7) % 300_000 || 1)
        await stream.update(bytes.subarray(p, p + step));
      const { boundary, end } = await stream.snapshot();
      assert.deepEqual(end, { offset: size, hash: stateOf(bytes) }, `end of ${size} bytes`);
      const at = size - (size % CHUNK_GRANULARITY);
      assert.deepEqual(boundary, { offset: at, hash: stateOf(bytes.subarray(0, at)) });
    } finally {
      stream.close();
    }
  }
});

test('a stream that starts from a saved state goes on from it', async () => {
  const first = randomBytes(2 * CHUNK_GRANULARITY);
  const rest = randomBytes(2 * 1024 * 1024);
  const stream = HashStream.open(stateOf(first));
  try {
    await stream.update(rest);
    const { end } = await stream.snapshot();
    assert.deepEqual(end.hash, stateOf(Buffer.concat([first, rest])));
  } finally {
    stream.close();
  }
});
