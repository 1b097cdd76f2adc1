import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bucketNameProblem, compareNames, objectNameProblem, utf8Length } from './names.js';

/** Strings of valid code points, weighted toward the ones where UTF-16 and UTF-8 order differ. */
const unicodeText = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      'a',
      'b',
      '/',
      '\u00e9',
      '\u07ff',
      '\u0800',
      '\ud7ff',
      '\ue000',
      '\uff00',
      '\uffff',
    ),
    fc.constantFrom('\u{10000}', '\u{1f600}', '\u{10ffff}'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 8,
});

const sign = (n: number): number => Math.sign(n) || 0;

describe('utf8Length', () => {
  it('counts UTF-8 bytes as Buffer does', () => {
    fc.assert(
      fc.property(unicodeText, (text) => {
        assert.equal(utf8Length(text), Buffer.byteLength(text, 'utf8'));
      }),
      { numRuns: 500 },
    );
  });
});

describe('objectNameProblem', () => {
  it('accepts ordinary names', () => {
    for (const name of [
      'a',
      'photos/2024/cat.jpg',
      'with space and + and %20',
      '日本語/ファイル.txt',
      '\u{1f600} emoji',
      'a'.repeat(1024),
      '\u20ac'.repeat(341) + 'a', // 1024 bytes
      '\u{1f600}'.repeat(256), // 1024 bytes
      '...',
      '.hidden',
      'a..b',
      'a//b',
      '/leading/slash',
      'trailing/',
      '.well-known/other',
      'x/.well-known/acme-challenge/y',
    ]) {
      assert.equal(objectNameProblem(name), undefined, JSON.stringify(name));
    }
  });

  it('counts the length in UTF-8 bytes', () => {
    assert.match(objectNameProblem('a'.repeat(1025)) ?? '', /at most 1024 bytes.*1025/);
    assert.match(objectNameProblem('\u20ac'.repeat(342)) ?? '', /at most 1024 bytes.*1026/);
    assert.match(objectNameProblem('\u{1f600}'.repeat(256) + 'a') ?? '', /1025/);
  });

  it('refuses names GCS refuses, and the ones Spool refuses on top', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['a\u0000b', /control characters/],
      ['a\rb', /control characters/],
      ['a\nb', /control characters/],
      ['a\tb', /control characters/],
      ['a\u007fb', /control characters/],
      ['a\u0085b', /control characters/],
      ['a\u009fb', /control characters/],
      ['\ud800', /valid UTF-8/],
      ['\udc00', /valid UTF-8/],
      ['a\ud800b', /valid UTF-8/],
      ['\udc00\ud800', /valid UTF-8/],
      ['.', /path segment/],
      ['..', /path segment/],
      ['a/../b', /path segment/],
      ['./x', /path segment/],
      ['x/.', /path segment/],
      ['x/..', /path segment/],
      ['.well-known/acme-challenge/x', /acme-challenge/],
    ];
    for (const [name, problem] of cases)
      assert.match(objectNameProblem(name) ?? '', problem, JSON.stringify(name));
  });

  it('accepts any 1-1024 bytes of printable characters without dot segments', () => {
    const isControl = (c: string): boolean => {
      const code = c.codePointAt(0)!;
      return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
    };
    const printable = fc.string({
      unit: fc.oneof(
        fc.constantFrom('a', '.', '/', ' ', '\u00e9', '\u20ac', '\u{1f600}'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !isControl(c)),
      ),
      minLength: 1,
      maxLength: 300,
    });
    fc.assert(
      fc.property(printable, (name) => {
        const segments = name.split('/');
        fc.pre(!segments.includes('.') && !segments.includes('..'));
        fc.pre(!name.startsWith('.well-known/acme-challenge/'));
        fc.pre(Buffer.byteLength(name) <= 1024);
        assert.equal(objectNameProblem(name), undefined);
      }),
    );
  });
});

describe('bucketNameProblem', () => {
  it('accepts valid bucket names', () => {
    const dotted222 = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(30)].join('.');
    assert.equal(dotted222.length, 222);
    for (const name of [
      'abc',
      'my-bucket',
      'my_bucket',
      '123',
      'a'.repeat(63),
      'example.com',
      'a.b.c',
      '1.2.3',
      dotted222,
    ]) {
      assert.equal(bucketNameProblem(name), undefined, name);
    }
  });

  it('refuses names that break the rules', () => {
    const rules = /3-63 characters/;
    const cases: [string, RegExp][] = [
      ['', rules],
      ['ab', rules],
      ['a'.repeat(64), rules],
      [['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(31)].join('.'), rules], // 223
      ['a'.repeat(64) + '.com', rules], // a dotted part over 63
      ['MyBucket', rules],
      ['-abc', rules],
      ['abc-', rules],
      ['_abc', rules],
      ['abc_', rules],
      ['.abc', rules],
      ['abc.', rules],
      ['a..b', rules],
      ['a b', rules],
      ['abç', rules],
      ['a/b', rules],
      ['192.168.5.4', /IP addresses/],
      ['googbucket', /goog/],
      ['goog', /goog/],
      ['my-google-bucket', /google/],
      ['g00gle-things', /google/],
    ];
    for (const [name, problem] of cases) assert.match(bucketNameProblem(name) ?? '', problem, name);
  });
});

describe('compareNames', () => {
  it('orders by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF00 is one UTF-16 unit above U+D83D (the high surrogate of U+1F600) but below it in UTF-8.
    assert.ok(compareNames('\uff00', '\u{1f600}') < 0);
    assert.ok(compareNames('\u{1f600}', '\uff00') > 0);
    assert.ok(compareNames('\ue000', '\u{10000}') < 0);
    assert.ok(compareNames('a', 'b') < 0);
    assert.ok(compareNames('a', 'a/') < 0);
    assert.equal(compareNames('\u{1f600}x', '\u{1f600}x'), 0);
  });

  it('agrees with comparing the UTF-8 bytes', () => {
    fc.assert(
      fc.property(unicodeText, unicodeText, (a, b) => {
        assert.equal(
          sign(compareNames(a, b)),
          Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts a list exactly as sorting the UTF-8 bytes does', () => {
    fc.assert(
      fc.property(fc.array(unicodeText, { maxLength: 20 }), (names) => {
        const byBytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        assert.deepEqual([...names].sort(compareNames), byBytes);
      }),
    );
  });
});
