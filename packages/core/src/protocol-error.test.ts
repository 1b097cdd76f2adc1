import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorEnvelope, fail, ok, protocolError } from './protocol-error.js';

describe('protocolError', () => {
  it('defaults to the JSON format', () => {
    assert.deepEqual(protocolError(404, 'notFound', 'gone'), {
      status: 404,
      reason: 'notFound',
      message: 'gone',
      format: 'json',
    });
    assert.equal(protocolError(400, 'invalid', 'x', 'text').format, 'text');
  });

  it('wraps into the GCS JSON API error envelope', () => {
    assert.deepEqual(errorEnvelope(protocolError(412, 'conditionNotMet', 'nope')), {
      error: {
        code: 412,
        message: 'nope',
        errors: [{ message: 'nope', domain: 'global', reason: 'conditionNotMet' }],
      },
    });
  });

  it('builds results', () => {
    assert.deepEqual(ok(3), { ok: true, value: 3 });
    const error = protocolError(400, 'invalid', 'bad');
    assert.deepEqual(fail(error), { ok: false, error });
  });
});
