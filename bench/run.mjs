// `npm run bench`: every scenario, Spool and its comparator alternately over several rounds in one
// run, on loopback and the same disk; prints a markdown table of medians and ratios and writes the
// results as JSON (bench-results/) and BENCHMARKS.md.
//
//   npm run bench                     all scenarios, 3 rounds, 1 GiB files
//   npm run bench -- --only 1,3       some scenarios
//   npm run bench -- --rounds 5 --size 256MiB --no-write
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GiB, MiB, md5Speed, randomFile, root, workDir } from './lib/common.mjs';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    size: { type: 'string', default: '1GiB' },
    'no-write': { type: 'boolean', default: false },
  },
});
const size = parseSize(values.size);
const rounds = Number(values.rounds);
const only = values.only?.split(',');

const scenarioFiles = (await readdir(new URL('./scenarios', import.meta.url)))
  .filter((f) => f.endsWith('.mjs'))
  .sort((a, b) => parseInt(a) - parseInt(b));
const scenarios = [];
for (const file of scenarioFiles) {
  const { default: scenario } = await import(`./scenarios/${file}`);
  if (!only || only.includes(scenario.id)) scenarios.push(scenario);
}

const md5AtStart = md5Speed();
const work = await workDir('run');
const files = new Map();
const ctx = {
  root,
  work,
  rounds,
  size,
  shared: {},
  // The client's resume store lives in the run's directory, not in the user's cache.
  clientEnv: { XDG_CACHE_HOME: join(work, 'cache') },
  log: (line) => process.stderr.write(`${line}\n`),
  async dir(name) {
    const path = join(work, name);
    await mkdir(path, { recursive: true });
    return path;
  },
  async file(name, bytes) {
    if (!files.has(name)) {
      const path = join(work, `${name}.bin`);
      files.set(name, { path, size: bytes, md5: await randomFile(path, bytes) });
    }
    return files.get(name);
  },
};

/**
 * Each scenario starts on the same disk: what the previous one stored is deleted (only the input
 * files and the client's cache stay). With scenario 4's 4.8 GB left in place, scenario 5's clean
 * upload took 3.4-3.9 s instead of 2.8.
 */
async function keepOnlyInputs() {
  const keep = new Set([...[...files.values()].map((f) => f.path), ctx.clientEnv.XDG_CACHE_HOME]);
  for (const entry of await readdir(work)) {
    const path = join(work, entry);
    if (!keep.has(path)) await rm(path, { recursive: true, force: true });
  }
}

const started = new Date();
const rows = [];
try {
  for (const scenario of scenarios) {
    ctx.log(`scenario ${scenario.id}: ${scenario.title}`);
    const t0 = performance.now();
    for (const row of await scenario.run(ctx))
      rows.push({ scenario: scenario.id, title: scenario.title, ...row });
    ctx.log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    await keepOnlyInputs();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const md5AtEnd = md5Speed();
const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / GiB).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}; MD5 on one core ${md5AtStart.toFixed(0)} MiB/s at the start, ${md5AtEnd.toFixed(0)} at the end`;
const args = process.argv.slice(2).join(' ');
const command = args ? `npm run bench -- ${args}` : 'npm run bench';
const fmt = (n) =>
  n === undefined ? '' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
const table = [
  '| # | scenario | measure | Spool | comparator | ratio | target | met |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => {
    // A row is judged on its ratio when it has a comparator, otherwise on Spool's own figure.
    const judged = r.comparatorName === undefined ? r.spool : r.ratio;
    const met =
      judged === undefined || r.target === undefined
        ? ''
        : (r.higherIsBetter ? judged >= r.target : judged <= r.target)
          ? 'yes'
          : '**no**';
    const target = r.target === undefined ? '' : `${r.higherIsBetter ? '≥' : '≤'} ${r.target}`;
    const comparator =
      r.comparatorName === undefined ? '' : `${fmt(r.comparator)} (${r.comparatorName})`;
    return `| ${r.scenario} | ${r.title} | ${r.measure} | ${fmt(r.spool)} | ${comparator} | ${fmt(r.ratio)} | ${target} | ${met} |`;
  }),
].join('\n');
const header = `Run on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; ${machine}; ${rounds} rounds, medians; \`${command}\`.`;
process.stdout.write(`\n${header}\n\n${table}\n`);

if (!values['no-write']) {
  await mkdir(join(root, 'bench-results'), { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  await writeFile(
    join(root, 'bench-results', `bench-${stamp}.json`),
    JSON.stringify({ started, machine, command, rounds, size, rows }, null, 2),
  );
  if (!only) {
    // The table is replaced; the sections after it (written by people) stay.
    const path = join(root, 'BENCHMARKS.md');
    const previous = await readFile(path, 'utf8').catch(() => '');
    const kept = previous.includes('\n## ') ? previous.slice(previous.indexOf('\n## ')) : '';
    await writeFile(
      path,
      `# Benchmarks\n\n${header}\n\n${table}\n\nRatios compare Spool with the comparator so that above the target is better for "≥" targets and below it for "≤" targets. How each scenario is measured: bench/scenarios/.\n${kept}`,
    );
  }
}

function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)(GiB|MiB|KiB)?$/.exec(text);
  if (!m) throw new Error(`--size ${text}: use e.g. 1GiB or 256MiB`);
  return Math.round(Number(m[1]) * ({ GiB, MiB, KiB: 1024 }[m[2]] ?? 1));
}
