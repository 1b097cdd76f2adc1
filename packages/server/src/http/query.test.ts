import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from './errors.js';
import { Query, decode, decodePath } from './query.js';

/** A thrown 400, the only way a query may be refused. */
function badRequestOrValue<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    assert.ok(error instanceof HttpError, String(error));
    assert.equal(error.error.status, 400);
    return undefined;
  }
}

const anyText = fc.string({ unit: 'binary', maxLength: 80 });
/** Text without lone surrogates: what encodeURIComponent can encode. */
const wellFormed = fc.string({ unit: 'grapheme', maxLength: 40 });

describe('Query (property-based)', () => {
  it('reads back what URLSearchParams wrote, the first of repeated keys winning', () => {
    const pairs = fc.array(fc.tuple(wellFormed, wellFormed), { maxLength: 8 });
    fc.assert(
      fc.property(pairs, (list) => {
        const query = new Query(new URLSearchParams(list).toString());
        for (const [key] of list) assert.equal(query.get(key), list.find(([k]) => k === key)![1]);
      }),
    );
  });

  it('refuses broken percent-encoding with a 400 and never throws anything else', () => {
    const raw = fc.string({ unit: fc.constantFrom('%', 'a', '=', '&', '+', 'F', 'C3', '28', 'é') });
    fc.assert(fc.property(raw, (search) => void badRequestOrValue(() => new Query(search))));
  });

  it('decodes what encodeURIComponent encoded; "+" is a space only in a query', () => {
    fc.assert(
      fc.property(wellFormed, (s) => {
        assert.equal(decode(encodeURIComponent(s)), s);
        assert.equal(decodePath(encodeURIComponent(s)), s);
        assert.equal(decode(s.replace(/[%+]/g, '').concat('+')), `${s.replace(/[%+]/g, '')} `);
        assert.equal(decodePath('+'), '+');
      }),
    );
  });

  it('integer() gives numbers within [min, max] or a 400, flag() true, false or a 400', () => {
    const value = fc.oneof(fc.nat().map(String), anyText, fc.constantFrom('', 'true', 'false'));
    fc.assert(
      fc.property(value, fc.nat(100), fc.nat(1000), (v, min, span) => {
        const query = new Query(`n=${encodeURIComponent(v)}`);
        const n = badRequestOrValue(() => query.integer('n', min, min, min + span));
        if (n !== undefined) assert.ok(n >= min && n <= min + span && Number.isInteger(n));
        if (/^\d{1,15}$/.test(v) && Number(v) >= min)
          assert.equal(n, Math.min(Number(v), min + span));
        const flag = badRequestOrValue(() => query.flag('n'));
        assert.equal(flag, v === '' || v === 'true' ? true : v === 'false' ? false : undefined);
      }),
    );
  });
});
