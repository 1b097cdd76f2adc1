import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedOrigin, corsHeaders, preflightHeaders } from './cors.js';

describe('CORS policy', () => {
  const policy = { origins: new Set(['https://app.example']) };

  it('allows listed origins, and only its own origin on a session', () => {
    assert.equal(allowedOrigin(policy, 'https://app.example'), 'https://app.example');
    assert.equal(allowedOrigin(policy, 'https://evil.example'), undefined);
    assert.equal(allowedOrigin(policy, undefined), undefined);
    assert.equal(
      allowedOrigin(policy, 'https://other.example', 'https://other.example'),
      'https://other.example',
    );
    assert.equal(
      allowedOrigin(policy, 'https://app.example', 'https://other.example'),
      undefined,
      'a session answers only its origin',
    );
    assert.equal(
      allowedOrigin({ origins: new Set(['*']) }, 'https://any.example'),
      'https://any.example',
    );
  });

  it('exposes the headers an upload client reads, and echoes only well-formed requested headers', () => {
    assert.match(
      corsHeaders('https://a')['access-control-expose-headers']!,
      /Location.*Range.*X-GUploader-UploadID.*X-Goog-Hash.*X-Goog-Upload-Status/,
    );
    const pre = preflightHeaders(
      'https://a',
      'content-type, content-range, x-goog-resumable, bad header\r\n, x-upload-content-length',
    );
    assert.equal(
      pre['access-control-allow-headers'],
      'content-type, content-range, x-goog-resumable, x-upload-content-length',
    );
    assert.match(pre['access-control-allow-methods']!, /PUT/);
  });
});
