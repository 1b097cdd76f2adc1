import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FAULT_METHODS } from './methods.js';
import { MAX_INSTRUCTIONS, RetryTests, parseRetryTestRequest } from './registry.js';

let counter = 0;
const registry = (limit?: number) => new RetryTests(() => `test-${++counter}`, limit);

function created(tests: RetryTests, instructions: Record<string, string[]>) {
  const result = tests.create({ instructions });
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.value;
}

function refusal(body: unknown): string {
  const result = parseRetryTestRequest(body);
  assert.ok(!result.ok, 'should be refused');
  assert.equal(result.error.status, 400);
  return result.error.message;
}

describe('parseRetryTestRequest', () => {
  it('refuses bodies that are not a retry test, with the shape to send', () => {
    assert.match(refusal(null), /JSON object/);
    assert.match(refusal([]), /JSON object/);
    assert.match(refusal({}), /no "instructions".*storage\.objects\.insert/);
    assert.match(refusal({ instructions: {} }), /no "instructions"/);
    assert.match(refusal({ instructions: ['return-503'] }), /no "instructions"/);
  });

  it('refuses unknown methods, naming the ones Spool serves', () => {
    const message = refusal({ instructions: { 'storage.objects.rewrite': ['return-503'] } });
    assert.match(message, /Unknown method "storage\.objects\.rewrite"/);
    assert.match(message, /storage\.objects\.insert, storage\.objects\.get/);
  });

  it('refuses malformed instructions and lists that are not lists of strings', () => {
    assert.match(
      refusal({ instructions: { 'storage.objects.insert': ['return-five-hundred'] } }),
      /Invalid fault injection instruction "return-five-hundred"/,
    );
    assert.match(
      refusal({ instructions: { 'storage.objects.insert': 'return-503' } }),
      /list of strings/,
    );
    assert.match(refusal({ instructions: { 'storage.objects.insert': [503] } }), /list of strings/);
  });

  it('refuses instructions that could never fire on their method', () => {
    assert.match(
      refusal({ instructions: { 'storage.objects.insert': ['return-broken-stream'] } }),
      /can never fire on storage\.objects\.insert: it applies to storage\.objects\.get/,
    );
    assert.match(
      refusal({ instructions: { 'storage.objects.get': ['return-503-after-1K'] } }),
      /can never fire on storage\.objects\.get/,
    );
  });

  it('takes transport HTTP in any case, and refuses gRPC', () => {
    const ok = (transport: string) =>
      parseRetryTestRequest({ instructions: { 'storage.objects.get': [] }, transport }).ok;
    assert.ok(ok('HTTP') && ok('http'));
    assert.match(
      refusal({ instructions: { 'storage.objects.get': [] }, transport: 'GRPC' }),
      /HTTP only/,
    );
  });

  it('bounds the number of instructions', () => {
    const many = Array.from({ length: MAX_INSTRUCTIONS + 1 }, () => 'return-503');
    assert.match(refusal({ instructions: { 'storage.objects.get': many } }), /at most 100/);
  });
});

describe('RetryTests', () => {
  it('shows a test as the testbench does: id, the instructions left, completed, transport', () => {
    const tests = registry();
    const test = created(tests, { 'storage.objects.insert': ['return-503', 'return-408'] });
    assert.deepEqual(test, {
      id: test.id,
      instructions: { 'storage.objects.insert': ['return-503', 'return-408'] },
      completed: false,
      transport: 'HTTP',
    });
    assert.deepEqual(tests.get(test.id), test);
    assert.deepEqual(tests.list(), [test]);
  });

  it('hands out instructions first in, first out, per method; completed when every queue is empty', () => {
    const tests = registry();
    const { id } = created(tests, {
      'storage.objects.insert': ['return-503', 'return-408'],
      'storage.objects.get': ['return-500'],
    });
    const take = (method: 'storage.objects.insert' | 'storage.objects.get') => {
      const next = tests.next(id, method);
      assert.ok(next?.take());
      return next!.text;
    };
    assert.equal(take('storage.objects.insert'), 'return-503');
    assert.equal(take('storage.objects.get'), 'return-500');
    assert.equal(tests.get(id)?.completed, false);
    assert.equal(take('storage.objects.insert'), 'return-408');
    assert.equal(tests.next(id, 'storage.objects.insert'), undefined);
    assert.equal(tests.get(id)?.completed, true);
  });

  it('lets one request take an instruction, not two that both saw it next', () => {
    const tests = registry();
    const { id } = created(tests, {
      'storage.objects.insert': ['return-503-after-1K', 'return-408'],
    });
    const first = tests.next(id, 'storage.objects.insert')!;
    const second = tests.next(id, 'storage.objects.insert')!;
    assert.equal(first.text, second.text);
    assert.equal(first.take(), true);
    assert.equal(second.take(), false);
    assert.equal(tests.next(id, 'storage.objects.insert')?.text, 'return-408');
  });

  it('leaves an instruction queued until a request takes it', () => {
    const tests = registry();
    const { id } = created(tests, { 'storage.objects.insert': ['return-503-after-1K'] });
    assert.ok(tests.next(id, 'storage.objects.insert'));
    assert.ok(tests.next(id, 'storage.objects.insert'));
    assert.equal(tests.get(id)?.completed, false);
  });

  it('deletes tests, and knows nothing of unknown ids', () => {
    const tests = registry();
    const { id } = created(tests, { 'storage.objects.get': ['return-503'] });
    assert.equal(tests.has(id), true);
    assert.equal(tests.delete(id), true);
    assert.equal(tests.delete(id), false);
    assert.equal(tests.get(id), undefined);
    assert.equal(tests.next(id, 'storage.objects.get'), undefined);
  });

  it('holds a bounded number of tests, and says how to make room', () => {
    const tests = registry(2);
    created(tests, { 'storage.objects.get': ['return-503'] });
    const { id } = created(tests, { 'storage.objects.get': ['return-503'] });
    const third = tests.create({ instructions: { 'storage.objects.get': ['return-503'] } });
    assert.ok(!third.ok);
    assert.match(third.error.message, /DELETE \/retry_test\/\{id\}/);
    tests.delete(id);
    assert.ok(tests.create({ instructions: { 'storage.objects.get': [] } }).ok);
  });
});

describe('parseRetryTestRequest (property-based)', () => {
  const instruction = fc.oneof(
    fc.constantFrom('return-503', 'return-reset-connection', 'stall-for-1s-after-1K'),
    fc.stringMatching(/^(return|stall|reset)-[a-z0-9-]{0,20}$/),
    fc.string({ unit: 'binary', maxLength: 30 }),
  );
  const body = fc.oneof(
    fc.jsonValue(),
    fc.record(
      {
        instructions: fc.oneof(
          fc.dictionary(
            fc.oneof(fc.constantFrom(...FAULT_METHODS), fc.string({ maxLength: 20 })),
            fc.oneof(fc.array(instruction, { maxLength: 60 }), fc.jsonValue()),
            { maxKeys: 4 },
          ),
          fc.jsonValue(),
        ),
        transport: fc.oneof(fc.constantFrom('HTTP', 'http', 'GRPC'), fc.jsonValue()),
      },
      { requiredKeys: [] },
    ),
  );

  it('never throws: any JSON gets queues or a 400 that says what to send', () => {
    fc.assert(
      fc.property(body, (value) => {
        const result = parseRetryTestRequest(value);
        if (result.ok) {
          const total = [...result.value.values()].reduce((n, q) => n + q.length, 0);
          assert.ok(total <= MAX_INSTRUCTIONS);
          for (const method of result.value.keys())
            assert.ok((FAULT_METHODS as readonly string[]).includes(method));
        } else {
          assert.equal(result.error.status, 400);
          assert.notEqual(result.error.message, '');
        }
      }),
    );
  });
});
