// The torture suite: its phases, how long each runs, and the summary of what they measured.
// `npm run torture` runs it long (main.ts); torture.test.ts runs the same code short.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../harness/random.js';
import { crashLoop } from './crash-loop.js';
import { expiry } from './expiry.js';
import { fullDisk } from './full-disk.js';
import { fuzzRequests } from './fuzz.js';
import { idleClients } from './idle-clients.js';
import { networkFaults } from './network-faults.js';
import type { PhaseContext, PhaseResult } from './phase.js';
import { twoWriters } from './two-writers.js';

export interface TortureOptions {
  readonly seed: number;
  /** SIGKILLs in the crash loop. */
  readonly kills: number;
  /** Uploads at once in the crash loop and the network-fault phase. */
  readonly concurrency: number;
  /** The largest upload, in bytes. */
  readonly maxSize: number;
  /** How long the network-fault phase keeps starting uploads, in ms. */
  readonly networkMs: number;
  /** How long the request fuzzer runs, in ms. */
  readonly fuzzMs: number;
  readonly twoWriterRounds: number;
  /** Idle sessions (and open idle uploads) whose memory is measured. */
  readonly idleSessions: number;
  /** Sessions of each state left to expire. */
  readonly expiringSessions: number;
}

export const PHASES = [
  'crash-loop',
  'network-faults',
  'two-writers',
  'fuzz',
  'full-disk',
  'idle-clients',
  'expiry',
] as const;
export type PhaseName = (typeof PHASES)[number];

export function runPhase(
  name: PhaseName,
  options: TortureOptions,
  ctx: PhaseContext,
): Promise<PhaseResult> {
  const { concurrency, maxSize } = options;
  switch (name) {
    case 'crash-loop':
      return crashLoop(ctx, { kills: options.kills, concurrency, maxSize, gapMs: [150, 2500] });
    case 'network-faults':
      return networkFaults(ctx, { durationMs: options.networkMs, concurrency, maxSize });
    case 'two-writers':
      return twoWriters(ctx, { rounds: options.twoWriterRounds, maxSize: Math.min(maxSize, 4e6) });
    case 'fuzz':
      return fuzzRequests(ctx, { durationMs: options.fuzzMs, concurrency: 4 });
    case 'full-disk':
      return fullDisk(ctx);
    case 'idle-clients':
      return idleClients(ctx, { sessions: options.idleSessions, slow: 20 });
    case 'expiry':
      return expiry(ctx, { sessions: options.expiringSessions });
  }
}

export interface PhaseReport extends PhaseResult {
  readonly name: PhaseName;
  readonly seconds: number;
}

/**
 * Runs one phase with a random source derived from the seed and the phase's name (so a phase
 * can be replayed alone) and a scratch directory of its own. A phase that throws is a violation.
 */
export async function runSeededPhase(
  name: PhaseName,
  options: TortureOptions,
  log: (line: string) => void,
): Promise<PhaseReport> {
  const scratch = await mkdtemp(join(tmpdir(), `spool-torture-${name}-`));
  const random = new Random((options.seed ^ hash(name)) >>> 0);
  const started = Date.now();
  let result: PhaseResult;
  try {
    result = await runPhase(name, options, { random, scratch, log });
  } catch (error) {
    result = {
      figures: {},
      violations: [`${name} failed: ${(error as Error).stack ?? String(error)}`],
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { name, seconds: Math.round((Date.now() - started) / 1000), ...result };
}

function hash(text: string): number {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** The figures the issue asks for, then every phase's, then every violation. */
export function summary(options: TortureOptions, reports: readonly PhaseReport[]): string {
  const of = (name: PhaseName) => reports.find((r) => r.name === name)?.figures ?? {};
  const crash = of('crash-loop');
  const network = of('network-faults');
  const idle = of('idle-clients');
  const sum = (key: string) =>
    reports.reduce((n, r) => n + (typeof r.figures[key] === 'number' ? r.figures[key] : 0), 0);
  const headline: [string, number | string | undefined][] = [
    ['seed', options.seed],
    ['kills survived', crash['kills']],
    ['acknowledged ranges checked after kills', crash['acknowledgementsChecked']],
    [
      'uploads finished with the right MD5 (crash loop, network faults)',
      sum('uploads') + sum('oneRequestUploads'),
    ],
    ['objects verified byte for byte', sum('objectsVerified')],
    ['bytes verified', sum('bytesVerified')],
    ['fuzz inputs tried', of('fuzz')['inputs']],
    ['network faults injected', network['faults']],
    ['orphans found', sum('orphans')],
    ...Object.entries(idle).filter(([key]) => key.startsWith('rss')),
  ];
  const lines = ['', '== Torture summary =='];
  for (const [key, value] of headline) if (value !== undefined) lines.push(`${key}: ${value}`);
  for (const report of reports) {
    lines.push(
      '',
      `-- ${report.name} (${report.seconds} s): ${report.violations.length} violations`,
    );
    for (const [key, value] of Object.entries(report.figures)) lines.push(`  ${key}: ${value}`);
  }
  const violations = reports.flatMap((r) => r.violations.map((v) => `[${r.name}] ${v}`));
  lines.push('', violations.length === 0 ? 'No violations.' : `${violations.length} VIOLATIONS:`);
  lines.push(...violations);
  return lines.join('\n');
}
