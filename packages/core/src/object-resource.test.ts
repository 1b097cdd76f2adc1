import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  applyMetadataPatch,
  encodeObjectName,
  objectEtag,
  objectResource,
  parseInitiationBody,
  parseMetadataPatch,
  type InitiationBody,
  type StoredObject,
} from './object-resource.js';

const CRC = 'yZRlqg==';
const MD5 = 'XrY7u+Ae7tCTyyK7j1rNww==';
const BASE = 'http://127.0.0.1:4443';

function accepted(body: unknown): InitiationBody {
  const result = parseInitiationBody(body);
  assert.ok(result.ok, `${JSON.stringify(body)} should be accepted`);
  return result.value;
}

function refusal(body: unknown): string {
  const result = parseInitiationBody(body);
  assert.ok(!result.ok, `${JSON.stringify(body)?.slice(0, 100)} should be refused`);
  assert.equal(result.error.status, 400);
  assert.equal(result.error.reason, 'invalid');
  return result.error.message;
}

describe('parseInitiationBody', () => {
  it('accepts a full object resource', () => {
    const body = {
      name: 'dir/file.txt',
      contentType: 'text/plain',
      contentEncoding: 'gzip',
      contentDisposition: 'attachment',
      contentLanguage: 'en',
      cacheControl: 'no-cache',
      customTime: '2024-01-02T03:04:05.000Z',
      crc32c: CRC,
      md5Hash: MD5,
      metadata: { owner: 'me', empty: '' },
    };
    assert.deepEqual(accepted(body), body);
  });

  it('accepts an empty object', () => {
    assert.deepEqual(accepted({}), {});
  });

  it('ignores fields it does not keep, and nulls', () => {
    const body = {
      acl: [{ entity: 'allUsers' }],
      storageClass: 'NEARLINE',
      kmsKeyName: 'k',
      size: 5,
      contentType: null,
      metadata: null,
    };
    assert.deepEqual(accepted(body), {});
    assert.deepEqual(accepted({ name: 'x', bogus: { deep: true } }), { name: 'x' });
  });

  it('keeps metadata values as strings, and drops null ones', () => {
    assert.deepEqual(accepted({ metadata: { n: 1, b: false, s: 's', gone: null } }).metadata, {
      n: '1',
      b: 'false',
      s: 's',
    });
  });

  it('keeps every metadata key verbatim, even "__proto__"', () => {
    const metadata = accepted(
      JSON.parse('{"metadata": {"__proto__": "x", "constructor": "y"}}'),
    ).metadata;
    assert.deepEqual(Object.entries(metadata ?? {}), [
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });

  it('refuses a body that is not a JSON object', () => {
    for (const body of [null, undefined, 'text', 42, true, [], [{ name: 'x' }]]) {
      assert.match(refusal(body), /must be a JSON object/, JSON.stringify(body));
    }
  });

  it('refuses fields of the wrong type', () => {
    const cases: [unknown, RegExp][] = [
      [{ name: 5 }, /name: it must be a string/],
      [{ contentType: {} }, /contentType: it must be a string/],
      [{ cacheControl: ['no-cache'] }, /cacheControl/],
      [{ crc32c: 12345 }, /crc32c: it must be a string/],
      [{ md5Hash: false }, /md5Hash/],
      [{ metadata: 'k=v' }, /metadata: it must be an object/],
      [{ metadata: ['v'] }, /metadata: it must be an object/],
      [{ metadata: { k: { nested: 'v' } } }, /metadata\.k: it must be a string/],
      [{ metadata: { k: ['v'] } }, /metadata\.k/],
    ];
    for (const [body, message] of cases) assert.match(refusal(body), message, JSON.stringify(body));
  });

  it('refuses names that cannot be object names', () => {
    assert.match(refusal({ name: '' }), /empty/);
    assert.match(refusal({ name: '../etc/passwd' }), /path segment/);
    assert.match(refusal({ name: 'a\nb' }), /control characters/);
    assert.match(refusal({ name: '\u20ac'.repeat(342) }), /1026/);
  });

  it('refuses hashes that are not base64 of the right length', () => {
    for (const crc32c of ['', 'yZRlqg', 'yZRlqh==', 'AAAAAAAA', MD5, '!!!!!!!!']) {
      assert.match(refusal({ crc32c }), /crc32c: it must be base64 of 4 bytes/, crc32c);
    }
    for (const md5Hash of ['', CRC, '5eb63bbbe01eeed093cb22bb8f5acdc3']) {
      assert.match(refusal({ md5Hash }), /md5Hash: it must be base64 of 16 bytes/, md5Hash);
    }
  });

  it('refuses a customTime that is not a date', () => {
    assert.match(refusal({ customTime: 'yesterday' }), /customTime/);
  });

  it('refuses strings longer than 4096 characters', () => {
    assert.match(refusal({ contentType: 'x'.repeat(4097) }), /longer than 4096/);
    assert.equal(accepted({ contentType: 'x'.repeat(4096) }).contentType?.length, 4096);
  });

  it('limits custom metadata to 8 KiB of UTF-8, keys included', () => {
    assert.ok(accepted({ metadata: { k: 'v'.repeat(8191) } }).metadata);
    assert.match(
      refusal({ metadata: { k: 'v'.repeat(8192) } }),
      /limited to 8192 bytes; this has 8193/,
    );
    assert.match(
      refusal({ metadata: { a: 'v'.repeat(4000), b: 'v'.repeat(4000), c: 'v'.repeat(200) } }),
      /8203/,
    );
    // 3000 characters, but 9000 bytes.
    assert.match(refusal({ metadata: { k: '\u20ac'.repeat(3000) } }), /this has 9001/);
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        parseInitiationBody(value);
      }),
      { numRuns: 500 },
    );
  });
});

const stored: StoredObject = {
  bucket: 'my-bucket',
  name: 'dir/a b+c?.txt',
  generation: '1700000000000001',
  metageneration: '1',
  size: 1234,
  crc32c: CRC,
  md5Hash: MD5,
  contentType: 'text/plain',
  timeCreated: '2024-01-02T03:04:05.678Z',
  updated: '2024-01-02T03:04:05.678Z',
};

describe('objectResource', () => {
  it('describes the object as the JSON API does', () => {
    assert.deepEqual(objectResource(stored, BASE), {
      kind: 'storage#object',
      id: 'my-bucket/dir/a b+c?.txt/1700000000000001',
      selfLink: `${BASE}/storage/v1/b/my-bucket/o/dir%2Fa%20b%2Bc%3F.txt`,
      mediaLink: `${BASE}/download/storage/v1/b/my-bucket/o/dir%2Fa%20b%2Bc%3F.txt?generation=1700000000000001&alt=media`,
      name: 'dir/a b+c?.txt',
      bucket: 'my-bucket',
      generation: '1700000000000001',
      metageneration: '1',
      contentType: 'text/plain',
      storageClass: 'STANDARD',
      size: '1234',
      md5Hash: MD5,
      crc32c: CRC,
      etag: '"1700000000000001.1"',
      timeCreated: '2024-01-02T03:04:05.678Z',
      updated: '2024-01-02T03:04:05.678Z',
      timeStorageClassUpdated: '2024-01-02T03:04:05.678Z',
      timeFinalized: '2024-01-02T03:04:05.678Z',
    });
  });

  it('writes 64-bit numbers as strings', () => {
    const resource = objectResource({ ...stored, size: 5 * 1024 ** 4 }, BASE);
    assert.equal(resource['size'], '5497558138880');
    assert.equal(typeof resource['generation'], 'string');
    assert.equal(typeof resource['metageneration'], 'string');
  });

  it('omits metadata when there is none, and includes it when there is', () => {
    assert.ok(!('metadata' in objectResource(stored, BASE)));
    assert.ok(!('metadata' in objectResource({ ...stored, metadata: {} }, BASE)));
    assert.deepEqual(objectResource({ ...stored, metadata: { k: 'v' } }, BASE)['metadata'], {
      k: 'v',
    });
  });

  it('includes optional fields only when set', () => {
    const optional = {
      contentEncoding: 'gzip',
      contentDisposition: 'inline',
      contentLanguage: 'fr',
      cacheControl: 'private',
      customTime: '2020-01-01T00:00:00Z',
    };
    const bare = objectResource(stored, BASE);
    for (const field of Object.keys(optional)) assert.ok(!(field in bare), field);
    const full = objectResource({ ...stored, ...optional }, BASE);
    for (const [field, value] of Object.entries(optional)) assert.equal(full[field], value, field);
  });

  it('links to the object whatever its name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), (name) => {
        const resource = objectResource({ ...stored, name }, BASE);
        const prefix = `${BASE}/storage/v1/b/my-bucket/o/`;
        const selfLink = resource['selfLink'] as string;
        assert.ok(selfLink.startsWith(prefix));
        const segment = selfLink.slice(prefix.length);
        assert.ok(!/[/?#\s]/.test(segment), segment);
        assert.equal(decodeURIComponent(segment), name);
        assert.equal(new URL(selfLink).pathname.split('/').length, 7);
      }),
    );
  });
});

describe('encodeObjectName', () => {
  it('percent-encodes slashes too', () => {
    assert.equal(encodeObjectName('a/b c'), 'a%2Fb%20c');
    assert.equal(encodeObjectName('\u20ac'), '%E2%82%AC');
  });
});

describe('objectEtag', () => {
  it('changes with the generation and with the metageneration', () => {
    const etag = objectEtag(stored);
    assert.notEqual(objectEtag({ ...stored, generation: '1700000000000002' }), etag);
    assert.notEqual(objectEtag({ ...stored, metageneration: '2' }), etag);
    assert.equal(objectEtag({ generation: stored.generation, metageneration: '1' }), etag);
  });
});

describe('parseMetadataPatch (property-based)', () => {
  const key = fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    fc.constantFrom('__proto__', 'constructor', 'toString'),
  );
  const field = fc.constantFrom(
    'contentType',
    'cacheControl',
    'contentLanguage',
    'metadata',
    'name',
    'size',
    'md5Hash',
  );

  it('never throws: any JSON is a patch or a 400 that says what is wrong', () => {
    const body = fc.oneof(fc.jsonValue(), fc.dictionary(field, fc.jsonValue({ maxDepth: 2 })));
    fc.assert(
      fc.property(body, (value) => {
        const result = parseMetadataPatch(value);
        if (!result.ok) {
          assert.equal(result.error.status, 400);
          assert.notEqual(result.error.message, '');
        }
      }),
    );
  });

  it('sets, keeps and removes custom metadata keys as the patch says; null clears a field', () => {
    const metadata = fc.dictionary(key, fc.string({ maxLength: 10 }), { maxKeys: 5 });
    const changes = fc.dictionary(key, fc.option(fc.string({ maxLength: 10 })), { maxKeys: 5 });
    fc.assert(
      fc.property(metadata, changes, fc.boolean(), (current, change, clearType) => {
        const parsed = parseMetadataPatch({
          metadata: change,
          ...(clearType && { contentType: null }),
        });
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.error.message);
        const stored = { contentType: 'text/plain', metadata: current };
        const next = applyMetadataPatch(stored, parsed.value);
        const expected = new Map(Object.entries(current));
        for (const [k, v] of Object.entries(change)) {
          if (v === null) expected.delete(k);
          else expected.set(k, v);
        }
        assert.deepEqual(
          next.metadata,
          expected.size > 0 ? Object.fromEntries(expected) : undefined,
        );
        assert.equal(next.contentType, clearType ? undefined : 'text/plain');
      }),
    );
  });
});
