import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bucketNameProblem, objectNameProblem } from '@spool/core';
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

describe('destination parsers (property-based)', () => {
  const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{1,30}[a-z0-9]$/);
  const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 });
  const anyText = fc.string({ unit: 'binary', maxLength: 80 });
  const gsText = fc.oneof(
    anyText,
    anyText.map((t) => `gs://${t}`),
  );

  /** The value, or undefined when refused with an InvalidOptionsError (never another error). */
  function refusedOr<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      assert.ok(error instanceof InvalidOptionsError, String(error));
      return undefined;
    }
  }

  it('gs://BUCKET/OBJECT gives back the bucket and any valid object name, slashes included', () => {
    fc.assert(
      fc.property(bucket, name, (b, o) => {
        fc.pre(bucketNameProblem(b) === undefined);
        const parsed = refusedOr(() => parseObjectUrl(`gs://${b}/${o}`));
        assert.deepEqual(parsed, objectNameProblem(o) ? undefined : { bucket: b, object: o });
        assert.deepEqual(parseBucketUrl(`gs://${b}/${o}`), { bucket: b, prefix: o });
      }),
    );
  });

  it('any other text: valid names or an InvalidOptionsError', () => {
    fc.assert(
      fc.property(gsText, (text) => {
        const object = refusedOr(() => parseObjectUrl(text));
        if (object) {
          assert.equal(bucketNameProblem(object.bucket), undefined);
          assert.equal(objectNameProblem(object.object), undefined);
          assert.equal(text, `gs://${object.bucket}/${object.object}`);
        }
        const bucketUrl = refusedOr(() => parseBucketUrl(text));
        if (bucketUrl) assert.equal(bucketNameProblem(bucketUrl.bucket), undefined);
      }),
    );
  });

  it('normalizeEndpoint: an http(s) URL without a trailing slash, or an InvalidOptionsError', () => {
    const host = fc.oneof(fc.domain(), fc.ipV4(), fc.constant('localhost'));
    const endpoint = fc.oneof(
      anyText,
      fc
        .tuple(
          fc.constantFrom('', 'http://', 'https://', 'HTTP://'),
          host,
          fc.option(fc.integer({ min: 1, max: 65535 })),
          fc.constantFrom('', '/', '/storage/v1', '/storage/v1/', '/gcs'),
        )
        .map(([scheme, h, port, path]) => `${scheme}${h}${port ? `:${port}` : ''}${path}`),
    );
    fc.assert(
      fc.property(endpoint, (text) => {
        const normal = refusedOr(() => normalizeEndpoint(text));
        if (normal === undefined) return;
        assert.match(normal, /^https?:\/\/[^/]/);
        assert.ok(!normal.endsWith('/'), normal);
        assert.ok(!normal.endsWith('/storage/v1'), normal);
      }),
    );
  });
});
