import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  clipPieces,
  emptyLayout,
  layoutFromState,
  layoutSize,
  layoutToState,
  sameLayout,
  type Layout,
} from './layout.js';

const layout: Layout = {
  uploadId: 'upload-1',
  parts: [
    { size: 8388608, etag: '"a"' },
    { size: 8388608, etag: '"b"' },
  ],
  pieces: [
    { key: 'p/1', size: 262144 },
    { key: 'p/2', size: 1000 },
  ],
  partSize: 8388608,
};

const pieces = fc.array(
  fc.record({ key: fc.string({ minLength: 1 }), size: fc.integer({ min: 1, max: 1 << 24 }) }),
  { maxLength: 20 },
);

describe('S3 layouts', () => {
  it('survive the session record (JSON) unchanged', () => {
    const state = JSON.parse(JSON.stringify(layoutToState(layout))) as Record<string, unknown>;
    assert.deepEqual(layoutFromState(state), layout);
    assert.deepEqual(layoutFromState(layoutToState(emptyLayout)), emptyLayout);
    assert.deepEqual(layoutFromState(undefined), emptyLayout);
    assert.equal(layoutSize(layout), 2 * 8388608 + 262144 + 1000);
  });

  it('refuse a state that is not theirs, saying so', () => {
    for (const state of [
      {},
      { s3: 2, parts: [], pieces: [] },
      { s3: 1, parts: [[-1, 'x']], pieces: [] },
      { s3: 1, parts: [], pieces: [[1]] },
      { s3: 1, parts: [], pieces: [], uploadId: 7 },
      { s3: 1, parts: [], pieces: [], partSize: 0 },
    ]) {
      assert.throws(() => layoutFromState(state), /not an S3 layout/, JSON.stringify(state));
    }
  });

  it('clip pieces to exactly the bytes up to an offset', () => {
    fc.assert(
      fc.property(pieces, fc.nat(), fc.nat(), (list, from, cut) => {
        const total = list.reduce((n, p) => n + p.size, 0);
        const offset = from + (total === 0 ? 0 : cut % (total + 1));
        const clipped = clipPieces(list, from, offset);
        assert.equal(
          clipped.reduce((n, p) => n + p.size, 0),
          offset - from,
        );
        clipped.forEach((p, i) => {
          assert.equal(p.key, list[i]!.key);
          if (i < clipped.length - 1) assert.equal(p.size, list[i]!.size);
        });
        assert.ok(clipped.every((p) => p.size > 0));
      }),
    );
  });

  it('compare by content', () => {
    assert.ok(sameLayout(layout, layoutFromState(layoutToState(layout))));
    assert.ok(!sameLayout(layout, { ...layout, pieces: layout.pieces.slice(1) }));
    assert.ok(!sameLayout(layout, { ...layout, partSize: undefined }));
    assert.ok(
      !sameLayout(layout, { ...layout, parts: [layout.parts[0]!, { size: 1, etag: '"b"' }] }),
    );
  });
});
