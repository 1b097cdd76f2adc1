// Builds the README's compatibility table from what the test suite recorded
// (tests/dist/compat-results.jsonl, written by tests/src/harness/compat.ts).
//   node scripts/compat-table.mjs --check   fail if the README does not match this run
//   node scripts/compat-table.mjs --write   rewrite the README's table
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const mode = process.argv[2];
if (mode !== '--check' && mode !== '--write') {
  console.error('usage: node scripts/compat-table.mjs --check|--write');
  process.exit(2);
}
let lines;
try {
  lines = readFileSync(`${root}tests/dist/compat-results.jsonl`, 'utf8').trim().split('\n');
} catch {
  console.error('No compatibility results: run the test suite first (npm test).');
  process.exit(1);
}
const results = new Map();
for (const line of lines) {
  const { tool, operation, ok } = JSON.parse(line);
  results.set(`${tool}\u0000${operation}`, {
    tool,
    operation,
    ok: (results.get(`${tool}\u0000${operation}`)?.ok ?? true) && ok,
  });
}
const rows = [...results.values()].sort(
  (a, b) => a.tool.localeCompare(b.tool) || a.operation.localeCompare(b.operation),
);
const table = [
  '| Tool | Operation | Result |',
  '|---|---|---|',
  ...rows.map((r) => `| ${r.tool} | ${r.operation} | ${r.ok ? 'works' : '**fails**'} |`),
].join('\n');

const readmePath = `${root}README.md`;
const readme = readFileSync(readmePath, 'utf8');
const pattern = /(<!-- compat:start[^>]*-->)[\s\S]*?(<!-- compat:end -->)/;
if (!pattern.test(readme)) {
  console.error('README.md has no <!-- compat:start --> … <!-- compat:end --> section.');
  process.exit(1);
}
// Cells are compared trimmed: the formatter pads the table's columns.
const cells = (text) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim())
        .join('|'),
    )
    .join('\n');
const current = pattern.exec(readme)[0];
if (mode === '--write') {
  writeFileSync(readmePath, readme.replace(pattern, `$1\n\n${table}\n\n$2`));
  console.log(`README compatibility table: ${rows.length} rows.`);
} else if (cells(current) !== cells(table)) {
  console.error('The README compatibility table differs from what this test run measured:\n');
  console.error(table);
  console.error('\nRun: node scripts/compat-table.mjs --write');
  process.exit(1);
} else {
  console.log(`README compatibility table matches this run (${rows.length} rows).`);
}
