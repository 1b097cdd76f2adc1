import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseS3Url } from './client.js';

describe('parseS3Url (property-based)', () => {
  const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
  const segment = fc.stringMatching(/^[a-zA-Z0-9_.=-]{1,12}$/);

  it('reads the bucket and a prefix ending in one slash, however many slashes were written', () => {
    fc.assert(
      fc.property(bucket, fc.array(segment, { maxLength: 4 }), fc.nat(3), (b, parts, extra) => {
        const slashes = '/'.repeat(extra);
        const url = `s3://${b}${parts.length > 0 ? `/${slashes}${parts.join('/')}${slashes}` : ''}`;
        assert.deepEqual(parseS3Url(url), {
          bucket: b,
          prefix: parts.length > 0 ? `${parts.join('/')}/` : '',
        });
      }),
    );
  });

  it('refuses anything else with a message naming the flag, never with another error', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (text) => {
        try {
          const { bucket: b, prefix } = parseS3Url(text);
          assert.ok(text.startsWith(`s3://${b}`));
          assert.ok(prefix === '' || prefix.endsWith('/'));
        } catch (error) {
          assert.equal((error as Error).constructor, Error);
          assert.match((error as Error).message, /--blobs must look like|is not an S3 bucket name/);
        }
      }),
    );
  });
});
