import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_OBJECT_SIZE } from './constants.js';
import { formatPersistedRange, parsePersistedRange } from './persisted-range.js';

describe('formatPersistedRange', () => {
  it('names the last stored byte, and is absent when nothing is stored', () => {
    assert.equal(formatPersistedRange(0), undefined);
    assert.equal(formatPersistedRange(1), 'bytes=0-0');
    assert.equal(formatPersistedRange(262144), 'bytes=0-262143');
  });
});

describe('parsePersistedRange', () => {
  it('reads a missing header as nothing stored', () => {
    assert.equal(parsePersistedRange(undefined), 0);
    assert.equal(parsePersistedRange(null), 0);
    assert.equal(parsePersistedRange(''), 0);
  });

  it('reads the stored size from a well-formed header', () => {
    assert.equal(parsePersistedRange('bytes=0-0'), 1);
    assert.equal(parsePersistedRange('bytes=0-524287'), 524288);
    assert.equal(parsePersistedRange(' bytes=0-9 '), 10);
  });

  it('round-trips any stored size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_OBJECT_SIZE }), (persisted) => {
        assert.equal(parsePersistedRange(formatPersistedRange(persisted)), persisted);
      }),
    );
  });

  it('rejects anything else as malformed', () => {
    for (const header of [
      'bytes=1-5',
      'bytes 0-5',
      'bytes=0-',
      'bytes=-5',
      'bytes=0-5/10',
      'bytes=0-5,7-9',
      'bytes=0--1',
      'bytes=0-1234567890123456',
      'bytes=0-\uff15',
      'BYTES=0-5',
      'garbage',
      ' ',
    ]) {
      assert.equal(parsePersistedRange(header), undefined, JSON.stringify(header));
    }
  });
});
