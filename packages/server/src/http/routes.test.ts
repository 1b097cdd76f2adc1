import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from './errors.js';
import { decodePath } from './query.js';
import { matchRoute } from './routes.js';

/** Bucket names of the shapes GCS allows (letters, digits, -, _ and dots). */
const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{1,40}[a-z0-9]$/);
/** Any object name: any Unicode, slashes, %, + and spaces included. */
const objectName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 });
const enc = encodeURIComponent;

describe('matchRoute (property-based)', () => {
  it('never throws but the 400 of a broken percent-encoding, on any path', () => {
    const path = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => `/${s}`),
      fc
        .array(
          fc.constantFrom('storage', 'v1', 'b', 'o', 'upload', 'download', '%', '%2F', 'compose'),
          { maxLength: 8 },
        )
        .map((parts) => `/${parts.join('/')}`),
    );
    fc.assert(
      fc.property(path, (p) => {
        try {
          matchRoute(p, decodePath);
        } catch (error) {
          assert.ok(error instanceof HttpError, String(error));
          assert.equal(error.error.status, 400);
        }
      }),
    );
  });

  it('finds the bucket and object of every JSON, upload, download and XML path, slashes and all', () => {
    fc.assert(
      fc.property(bucket, objectName, fc.boolean(), (b, o, escapeSlashes) => {
        // Clients percent-encode slashes in object names, or leave them as they are; both work.
        const name = escapeSlashes ? enc(o) : o.split('/').map(enc).join('/');
        assert.deepEqual(matchRoute(`/storage/v1/b/${enc(b)}/o/${name}`, decodePath), {
          name: 'object',
          bucket: b,
          object: o,
          ...(name.endsWith('/compose') && { composeTarget: o.slice(0, -'/compose'.length) }),
        });
        assert.deepEqual(matchRoute(`/download/storage/v1/b/${enc(b)}/o/${name}`, decodePath), {
          name: 'download',
          bucket: b,
          object: o,
        });
        assert.deepEqual(matchRoute(`/upload/storage/v1/b/${enc(b)}/o`, decodePath), {
          name: 'upload',
          bucket: b,
        });
        assert.deepEqual(matchRoute(`/storage/v1/b/${enc(b)}`, decodePath), {
          name: 'bucket',
          bucket: b,
        });
        const xml = matchRoute(`/${enc(b)}/${name}`, decodePath);
        const reserved = ['upload', 'resumable', 'download', 'storage', 'b'].includes(b);
        assert.deepEqual(xml, reserved ? xml : { name: 'xml-object', bucket: b, object: o });
      }),
    );
  });

  it('takes the compose target from a path ending in /compose', () => {
    fc.assert(
      fc.property(bucket, objectName, (b, o) => {
        const route = matchRoute(`/storage/v1/b/${b}/o/${enc(o)}/compose`, decodePath);
        assert.equal(route?.name, 'object');
        assert.equal(route.name === 'object' && route.composeTarget, o);
      }),
    );
  });
});
