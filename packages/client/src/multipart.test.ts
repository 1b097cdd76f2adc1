import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionsError } from './errors.js';
import {
  mediaBytesSent,
  multipartBody,
  multipartRequest,
  validateMultipartThreshold,
} from './multipart.js';
import type { RequestBody } from './transport.js';

const hashes = { crc32c: 'AAAAAA==', md5Hash: '1B2M2Y8AsgTpgAmY7PhCfg==' };

async function bodyText(body: RequestBody): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const piece of body.chunks) parts.push(piece.slice());
  const all = Buffer.concat(parts);
  assert.equal(all.length, body.length, 'the announced length is the length sent');
  return all.toString('latin1');
}

function media(bytes: Buffer, pieceSize: number): RequestBody {
  return {
    length: bytes.length,
    chunks: (function* () {
      for (let at = 0; at < bytes.length; at += pieceSize) {
        yield bytes.subarray(at, at + pieceSize);
      }
    })(),
  };
}

describe('multipartRequest', () => {
  const request = multipartRequest(
    'http://127.0.0.1:1',
    { bucket: 'b', object: 'dir/a b.txt' },
    { contentType: 'text/plain', metadata: { k: 'v' } },
    { ifGenerationMatch: '0' },
    hashes,
    'BOUNDARY',
  );

  it('posts to the bucket with uploadType=multipart and the preconditions', () => {
    assert.equal(
      request.url,
      'http://127.0.0.1:1/upload/storage/v1/b/b/o?uploadType=multipart&ifGenerationMatch=0',
    );
    assert.equal(request.headers['content-type'], 'multipart/related; boundary=BOUNDARY');
    assert.equal(request.headers['x-goog-hash'], `crc32c=${hashes.crc32c},md5=${hashes.md5Hash}`);
  });

  it('frames the metadata (with the name) and the media between boundaries', async () => {
    const text = await bodyText(multipartBody(request, media(Buffer.from('hello'), 2)));
    const [preamble, json, mediaPart, end] = text.split('--BOUNDARY');
    assert.equal(preamble, '');
    assert.equal(end, '--\r\n');
    const [jsonHead, jsonBody] = json!.split('\r\n\r\n');
    assert.equal(jsonHead, '\r\nContent-Type: application/json; charset=UTF-8');
    assert.deepEqual(JSON.parse(jsonBody!), {
      contentType: 'text/plain',
      metadata: { k: 'v' },
      name: 'dir/a b.txt',
    });
    assert.equal(mediaPart, '\r\nContent-Type: text/plain\r\n\r\nhello\r\n');
  });

  it('sends media up to 64 KiB in one piece, and larger media as it comes', async () => {
    const count = async (size: number) => {
      let pieces = 0;
      for await (const _ of multipartBody(request, media(Buffer.alloc(size, 7), 1000)).chunks) {
        pieces++;
      }
      return pieces;
    };
    assert.equal(await count(4096), 1);
    assert.equal(await count(65536), 1);
    assert.equal(await count(65537), 2 + 66);
  });

  it('gives each request its own boundary', () => {
    const names = { bucket: 'b', object: 'o' };
    const a = multipartRequest('http://h', names, {}, {}, hashes);
    const b = multipartRequest('http://h', names, {}, {}, hashes);
    assert.notEqual(a.headers['content-type'], b.headers['content-type']);
  });
});

describe('mediaBytesSent', () => {
  it('counts only the media, not the framing', () => {
    const request = multipartRequest('http://h', { bucket: 'b', object: 'o' }, {}, {}, hashes);
    const head = request.head.length;
    assert.equal(mediaBytesSent(request, 10, head - 1), 0);
    assert.equal(mediaBytesSent(request, 10, head + 4), 4);
    assert.equal(mediaBytesSent(request, 10, head + 10 + request.tail.length), 10);
  });
});

describe('validateMultipartThreshold', () => {
  it('takes a whole number of bytes ≥ 0 and nothing else', () => {
    for (const ok of [undefined, 0, 1, 8 * 1024 * 1024]) validateMultipartThreshold(ok);
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 60]) {
      assert.throws(() => validateMultipartThreshold(bad), InvalidOptionsError, String(bad));
    }
  });
});
