import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { appliesTo, parseInstruction, type Instruction } from './instructions.js';
import { FAULT_METHODS } from './methods.js';

const KiB = 1024;

function parsed(text: string, source: 'retry-test' | 'header' = 'retry-test'): Instruction {
  const result = parseInstruction(text, source);
  assert.ok(result.ok, `${text} should parse: ${result.ok ? '' : result.problem}`);
  return result.instruction;
}

function problem(text: string): string {
  const result = parseInstruction(text, 'retry-test');
  assert.ok(!result.ok, `${text} should be refused`);
  return result.problem;
}

describe('parseInstruction', () => {
  it('reads every instruction of the testbench vocabulary Spool carries out', () => {
    assert.deepEqual(parsed('return-503'), { kind: 'status', status: 503 });
    assert.deepEqual(parsed('return-408'), { kind: 'status', status: 408 });
    assert.deepEqual(parsed('return-reset-connection'), { kind: 'reset' });
    assert.deepEqual(parsed('return-503-after-256K'), {
      kind: 'status-after-bytes',
      status: 503,
      offset: 256 * KiB,
    });
    assert.deepEqual(parsed('return-504-after-300K'), {
      kind: 'status-after-bytes',
      status: 504,
      offset: 300 * KiB,
    });
    assert.deepEqual(parsed('stall-for-3s-after-100K'), {
      kind: 'stall-after-bytes',
      ms: 3000,
      offset: 100 * KiB,
    });
    assert.deepEqual(parsed('return-broken-stream-final-chunk-after-0B'), {
      kind: 'cut-final-response',
      bytes: 0,
    });
    assert.deepEqual(parsed('return-broken-stream-after-256K'), {
      kind: 'cut-download',
      bytes: 256 * KiB,
    });
    assert.deepEqual(parsed('return-corrupted-data'), { kind: 'corrupt-download' });
    assert.deepEqual(parsed('stall-always'), {
      kind: 'stall-download',
      ms: 10_000,
      bytes: 0,
      fromObjectStart: false,
    });
    assert.deepEqual(parsed('stall-at-256KiB'), {
      kind: 'stall-download',
      ms: 10_000,
      bytes: 256 * KiB,
      fromObjectStart: true,
    });
  });

  it('cuts return-broken-stream after 4 bytes in a retry test and 1 MiB by header, as the testbench', () => {
    assert.deepEqual(parsed('return-broken-stream', 'retry-test'), {
      kind: 'cut-download',
      bytes: 4,
    });
    assert.deepEqual(parsed('return-broken-stream', 'header'), {
      kind: 'cut-download',
      bytes: 1024 * KiB,
    });
  });

  it('refuses statuses that are not errors, and offsets and stalls out of range', () => {
    assert.match(problem('return-200'), /from 400 to 599/);
    assert.match(problem('return-308-after-1K'), /from 400 to 599/);
    assert.match(problem('return-600'), /from 400 to 599/);
    assert.match(problem('return-503-after-99999999999K'), /at most 5368709120K/);
    assert.match(problem('stall-for-3601s-after-0K'), /at most 3600 seconds/);
  });

  it('names what it refuses and what it understands', () => {
    const text = problem('return-teapot');
    assert.match(text, /"return-teapot"/);
    assert.match(text, /return-X-after-YK/);
    assert.match(problem('redirect-send-token-abc'), /gRPC/);
    assert.match(problem('return-503-if-dp-enforced'), /DirectPath/);
    assert.match(problem('return-503-after-256K/retry-1'), /retry test/);
  });

  it('is strict about spelling: case, spaces, units', () => {
    for (const text of [
      'RETURN-503',
      'return-503 ',
      'return-503-after-256k',
      'stall-for-1-after-1K',
      '',
    ])
      problem(text);
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const result = parseInstruction(text, 'header');
        if (!result.ok) assert.ok(result.problem.length > 0);
      }),
    );
  });
});

describe('appliesTo', () => {
  it('lets return-X and resets fire on any method', () => {
    for (const method of FAULT_METHODS) {
      assert.ok(appliesTo(parsed('return-503'), method));
      assert.ok(appliesTo(parsed('return-reset-connection'), method));
    }
  });

  it('keeps upload faults to storage.objects.insert and download faults to storage.objects.get', () => {
    const only = (text: string, methods: string[]) =>
      assert.deepEqual(
        FAULT_METHODS.filter((m) => appliesTo(parsed(text), m)),
        methods,
        text,
      );
    only('return-503-after-256K', ['storage.objects.insert']);
    only('return-broken-stream-final-chunk-after-10B', ['storage.objects.insert']);
    only('stall-for-1s-after-1K', ['storage.objects.insert', 'storage.objects.get']);
    for (const text of [
      'return-broken-stream',
      'return-broken-stream-after-1K',
      'return-corrupted-data',
      'stall-always',
      'stall-at-256KiB',
    ])
      only(text, ['storage.objects.get']);
  });
});
