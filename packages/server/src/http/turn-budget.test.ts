import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnBudget } from './turn-budget.js';

const KiB = 1024;
const nextPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnBudget', () => {
  it('is spent once a phase took its bytes, and fresh in the next phase', async () => {
    const budget = new TurnBudget(256 * KiB);
    budget.take(128 * KiB);
    assert.equal(budget.spent, false);
    budget.take(128 * KiB);
    assert.equal(budget.spent, true);
    await nextPhase();
    await nextPhase();
    assert.equal(budget.spent, false);
  });

  it('lets waiting callers through in order, as many as a phase covers', async () => {
    const budget = new TurnBudget(1024 * KiB);
    budget.take(1024 * KiB);
    const through: number[][] = [];
    let phase: number[] = [];
    for (let i = 0; i < 5; i++) void budget.wait(400 * KiB).then(() => phase.push(i));
    for (let p = 0; p < 3; p++) {
      await nextPhase();
      through.push(phase);
      phase = [];
    }
    // 400 + 400 + 400 KiB reach the 1 MiB of the first phase; the other two go in the next one.
    assert.deepEqual(through, [[0, 1, 2], [3, 4], []]);
  });
});
