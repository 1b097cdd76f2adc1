import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as messages from './messages.js';

// The texts GCS defines are checked word for word where they are produced (content-range,
// decision and completion tests). Here: every message has a sensible shape.
describe('messages', () => {
  const all = [
    messages.contentRangeUnparsable(),
    messages.chunkTooSmall(1024),
    messages.offsetBeyondPersisted(4, 0),
    messages.crc32cMismatch('a', 'b'),
    messages.md5Mismatch('a', 'b'),
    messages.preconditionFailed(),
    messages.sizeMismatchDeclared(1, 2),
    messages.totalChanged(1, 2),
    messages.totalBelowPersisted(1, 2),
    messages.tooLarge(2 ** 50),
    messages.bodyLengthMismatch(1, 2),
    messages.queryWithBody(),
    messages.sessionNotFound(),
    messages.sessionCancelled(),
    messages.sessionSuperseded(262144),
    messages.bucketNotFound(),
    messages.objectNotFound('b', 'o'),
  ];

  it('uses 4xx for client mistakes and 503 only where GCS does', () => {
    for (const error of all) {
      assert.ok(error.status >= 400 && error.status < 600, error.message);
      if (error.status >= 500) assert.equal(error.status, 503, error.message);
    }
  });

  it('never leaves a placeholder unfilled', () => {
    for (const error of all)
      assert.doesNotMatch(error.message, /undefined|NaN|\$\{|\[object/, error.message);
  });

  it('reproduces the byte length of the 503 live GCS sends for a gap', () => {
    // Observed on live GCS: offset 4 against 0 stored answers with Content-Length: 138.
    const body = messages.offsetBeyondPersisted(4, 0).message;
    assert.equal(new TextEncoder().encode(body).length, 138);
  });

  it('sends the upload protocol errors as plain text, as GCS does', () => {
    for (const error of [
      messages.contentRangeUnparsable(),
      messages.chunkTooSmall(1),
      messages.offsetBeyondPersisted(1, 0),
    ]) {
      assert.equal(error.format, 'text', error.message);
    }
    assert.equal(messages.crc32cMismatch('a', 'b').format, 'json');
    assert.equal(messages.preconditionFailed().status, 412);
  });
});
