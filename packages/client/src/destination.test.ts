import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  normalizeEndpoint,
  parseBucketUrl,
  parseObjectUrl,
  resolveDestination,
  urls,
} from './destination.js';
import { InvalidOptionsError } from './errors.js';

describe('destinations', () => {
  it('reads gs:// URLs, object names with slashes included', () => {
    assert.deepEqual(parseObjectUrl('gs://my-bucket/a/b c.txt'), {
      bucket: 'my-bucket',
      object: 'a/b c.txt',
    });
    assert.deepEqual(parseBucketUrl('gs://my-bucket'), { bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseBucketUrl('gs://my-bucket/logs/'), {
      bucket: 'my-bucket',
      prefix: 'logs/',
    });
  });

  it('refuses what is not an object URL, with a message saying what is', () => {
    for (const bad of [
      'my-bucket/x',
      'gs://my-bucket',
      'gs://my-bucket/',
      's3://b/x',
      'gs://B!/x',
    ]) {
      assert.throws(() => parseObjectUrl(bad), InvalidOptionsError, bad);
    }
    assert.throws(() => parseObjectUrl('gs://my-bucket/a/../b'), /path segment/);
  });

  it('takes a session URI as a destination', () => {
    assert.deepEqual(resolveDestination({ sessionUri: 'https://h/upload?upload_id=x' }), {
      kind: 'session',
      sessionUri: 'https://h/upload?upload_id=x',
    });
    assert.throws(() => resolveDestination({ sessionUri: 'upload_id=x' }), InvalidOptionsError);
  });

  it('normalizes endpoints as users and STORAGE_EMULATOR_HOST write them', () => {
    assert.equal(normalizeEndpoint('http://127.0.0.1:4080/'), 'http://127.0.0.1:4080');
    assert.equal(normalizeEndpoint('localhost:9000'), 'http://localhost:9000');
    assert.equal(normalizeEndpoint('http://h:1/storage/v1/'), 'http://h:1');
    assert.equal(normalizeEndpoint('https://proxy.example/gcs'), 'https://proxy.example/gcs');
    assert.throws(() => normalizeEndpoint('ftp://h'), InvalidOptionsError);
    assert.throws(() => normalizeEndpoint('http://h/?x=1'), InvalidOptionsError);
  });

  it('encodes names into the JSON API paths', () => {
    assert.equal(
      urls.initiate('http://h', 'b', 'a/b c', ''),
      'http://h/upload/storage/v1/b/b/o?uploadType=resumable&name=a%2Fb%20c',
    );
    assert.equal(urls.object('http://h', 'b', 'a/b'), 'http://h/storage/v1/b/b/o/a%2Fb');
  });
});
