import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parsePreconditions,
  preconditionsHold,
  PRECONDITION_NAMES,
  type Preconditions,
} from './preconditions.js';

const fromQuery = (query: string) => {
  const params = new URLSearchParams(query);
  return parsePreconditions((name) => params.get(name));
};

describe('parsePreconditions', () => {
  it('reads all four, as canonical decimal strings', () => {
    assert.deepEqual(
      fromQuery(
        'ifGenerationMatch=0&ifGenerationNotMatch=007&ifMetagenerationMatch=1&ifMetagenerationNotMatch=9223372036854775807',
      ),
      {
        ok: true,
        value: {
          ifGenerationMatch: '0',
          ifGenerationNotMatch: '7',
          ifMetagenerationMatch: '1',
          ifMetagenerationNotMatch: '9223372036854775807',
        },
      },
    );
  });

  it('reads nothing when none is given, and ignores other parameters', () => {
    assert.deepEqual(fromQuery(''), { ok: true, value: {} });
    assert.deepEqual(fromQuery('name=x&generation=5&ifgenerationmatch=3'), { ok: true, value: {} });
  });

  it('refuses values that are not non-negative 64-bit integers', () => {
    for (const value of [
      '',
      '-1',
      '+1',
      '1.5',
      '1e3',
      ' 1',
      '0x10',
      'abc',
      '\uff11', // full-width digit
      '9223372036854775808', // int64 max + 1
      '99999999999999999999', // 20 digits
    ]) {
      const result = fromQuery(`ifMetagenerationMatch=${encodeURIComponent(value)}`);
      assert.ok(!result.ok, JSON.stringify(value));
      assert.equal(result.error.status, 400);
      assert.match(result.error.message, /ifMetagenerationMatch/);
    }
  });
});

describe('preconditionsHold', () => {
  const existing = { generation: '1700000000000001', metageneration: '3' };
  const cases: [string, Preconditions, boolean, boolean][] = [
    // [description, conditions, holds with `existing`, holds with no object]
    ['no conditions', {}, true, true],
    ['ifGenerationMatch=0 (must not exist)', { ifGenerationMatch: '0' }, false, true],
    ['ifGenerationMatch = current', { ifGenerationMatch: existing.generation }, true, false],
    ['ifGenerationMatch = other', { ifGenerationMatch: '5' }, false, false],
    ['ifGenerationNotMatch=0 (must exist)', { ifGenerationNotMatch: '0' }, true, false],
    ['ifGenerationNotMatch = current', { ifGenerationNotMatch: existing.generation }, false, false],
    ['ifGenerationNotMatch = other', { ifGenerationNotMatch: '5' }, true, false],
    ['ifMetagenerationMatch = current', { ifMetagenerationMatch: '3' }, true, false],
    ['ifMetagenerationMatch = other', { ifMetagenerationMatch: '4' }, false, false],
    ['ifMetagenerationNotMatch = current', { ifMetagenerationNotMatch: '3' }, false, false],
    ['ifMetagenerationNotMatch = other', { ifMetagenerationNotMatch: '4' }, true, false],
    [
      'all four holding',
      {
        ifGenerationMatch: existing.generation,
        ifGenerationNotMatch: '1',
        ifMetagenerationMatch: '3',
        ifMetagenerationNotMatch: '1',
      },
      true,
      false,
    ],
    [
      'one of four failing',
      {
        ifGenerationMatch: existing.generation,
        ifGenerationNotMatch: '1',
        ifMetagenerationMatch: '2',
        ifMetagenerationNotMatch: '1',
      },
      false,
      false,
    ],
  ];
  for (const [description, conditions, withObject, withoutObject] of cases) {
    it(description, () => {
      assert.equal(preconditionsHold(conditions, existing), withObject, 'with an existing object');
      assert.equal(preconditionsHold(conditions, undefined), withoutObject, 'with no object');
    });
  }

  it('holds for a set of conditions exactly when each one holds on its own', () => {
    const value = fc.constantFrom('0', '1', '2', '3');
    const conditions = fc.record(
      Object.fromEntries(PRECONDITION_NAMES.map((name) => [name, value])) as Record<
        (typeof PRECONDITION_NAMES)[number],
        fc.Arbitrary<string>
      >,
      { requiredKeys: [] },
    );
    const current = fc.option(fc.record({ generation: value, metageneration: value }), {
      nil: undefined,
    });
    fc.assert(
      fc.property(conditions, current, (all, object) => {
        const each = Object.entries(all).every(([name, v]) =>
          preconditionsHold({ [name]: v }, object),
        );
        assert.equal(preconditionsHold(all, object), each);
      }),
    );
  });
});
