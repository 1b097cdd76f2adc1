// `npm run torture`: the long torture run. Every flag has an environment variable; the seed is
// printed first, so that a failing run can be replayed. Exits 1 on any violation.
import { formatFlags, parseFlags, UsageError, type FlagSpec } from '@spool/cli/dist/flags.js';
import { PHASES, runSeededPhase, summary, type PhaseName, type PhaseReport } from './run.js';

const flags: FlagSpec[] = [
  {
    name: 'seed',
    env: 'TORTURE_SEED',
    kind: 'integer',
    help: 'Seed of every random choice (a new one each run by default).',
  },
  {
    name: 'phases',
    env: 'TORTURE_PHASES',
    kind: 'list',
    default: PHASES.join(','),
    help: 'Phases to run, in this order.',
  },
  {
    name: 'kills',
    env: 'TORTURE_KILLS',
    kind: 'integer',
    default: '100',
    help: 'SIGKILLs in the crash loop.',
  },
  {
    name: 'concurrency',
    env: 'TORTURE_CONCURRENCY',
    kind: 'integer',
    default: '6',
    help: 'Uploads at once in the crash loop and the network-fault phase.',
  },
  {
    name: 'max-size',
    env: 'TORTURE_MAX_SIZE',
    kind: 'size',
    default: '24MiB',
    help: 'The largest upload.',
  },
  {
    name: 'network-duration',
    env: 'TORTURE_NETWORK_DURATION',
    kind: 'duration',
    default: '4m',
    help: 'How long uploads keep starting through the faulty network.',
  },
  {
    name: 'fuzz-duration',
    env: 'TORTURE_FUZZ_DURATION',
    kind: 'duration',
    default: '3m',
    help: 'How long the request fuzzer runs.',
  },
  {
    name: 'two-writer-rounds',
    env: 'TORTURE_TWO_WRITER_ROUNDS',
    kind: 'integer',
    default: '60',
    help: 'Sessions written by two clients at once.',
  },
  {
    name: 'idle-sessions',
    env: 'TORTURE_IDLE_SESSIONS',
    kind: 'integer',
    default: '1000',
    help: 'Idle sessions, and idle open uploads, whose memory is measured.',
  },
  {
    name: 'expiring-sessions',
    env: 'TORTURE_EXPIRING_SESSIONS',
    kind: 'integer',
    default: '20',
    help: 'Sessions of each state left to expire.',
  },
  { name: 'help', kind: 'boolean', help: 'Show this help.' },
];

async function main(): Promise<number> {
  let values;
  try {
    values = parseFlags(flags, process.argv.slice(2), process.env).values;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    return 2;
  }
  if (values['help']) {
    console.log(`Usage: npm run torture -- [flags]\n\n${formatFlags(flags)}`);
    return 0;
  }
  const phases = values['phases'] as string[];
  const unknown = phases.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) {
    console.error(`Unknown phase ${unknown.join(', ')}; the phases are ${PHASES.join(', ')}.`);
    return 2;
  }
  const options = {
    seed: (values['seed'] as number | undefined) ?? Math.floor(Math.random() * 1e9),
    kills: values['kills'] as number,
    concurrency: values['concurrency'] as number,
    maxSize: values['max-size'] as number,
    networkMs: values['network-duration'] as number,
    fuzzMs: values['fuzz-duration'] as number,
    twoWriterRounds: values['two-writer-rounds'] as number,
    idleSessions: values['idle-sessions'] as number,
    expiringSessions: values['expiring-sessions'] as number,
  };
  const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  log(
    `torture: seed ${options.seed} (replay with --seed ${options.seed}), phases ${phases.join(', ')}`,
  );
  const reports: PhaseReport[] = [];
  for (const phase of phases as PhaseName[]) {
    log(`${phase}: starting`);
    const report = await runSeededPhase(phase, options, log);
    reports.push(report);
    log(`${phase}: done in ${report.seconds} s, ${report.violations.length} violations`);
  }
  console.log(summary(options, reports));
  return reports.some((r) => r.violations.length > 0) ? 1 : 0;
}

// Exit at once: the harness's node:test hooks would otherwise print an empty test report.
process.exit(await main());
