// The torture suite, short: every phase of `npm run torture` (tests/src/torture/) with few kills
// and short durations. A new seed each run, printed; TORTURE_SEED replays one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiB } from './harness/gcs.js';
import { PHASES, runSeededPhase, type TortureOptions } from './torture/run.js';

const options: TortureOptions = {
  seed: Number(process.env['TORTURE_SEED'] ?? Math.floor(Math.random() * 1e9)),
  kills: 6,
  concurrency: 3,
  maxSize: 3 * MiB,
  networkMs: 20_000,
  fuzzMs: 20_000,
  twoWriterRounds: 8,
  idleSessions: 1000,
  expiringSessions: 4,
};

describe(`torture, short (seed ${options.seed}; replay with TORTURE_SEED=${options.seed})`, () => {
  for (const phase of PHASES) {
    it(phase, async (t) => {
      const report = await runSeededPhase(phase, options, (line) => t.diagnostic(line));
      for (const [key, value] of Object.entries(report.figures)) t.diagnostic(`${key}: ${value}`);
      assert.deepEqual(report.violations, [], `${phase}, seed ${options.seed}`);
    });
  }
});
