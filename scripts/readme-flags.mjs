// Rewrites the README's flag tables from the flag definitions (run after adding a flag; the
// README test in packages/cli checks they agree). Needs a build: npm run build.
import { readFileSync, writeFileSync } from 'node:fs';
import { serveFlags } from '../packages/cli/dist/serve.js';
import { signFlags } from '../packages/cli/dist/sign.js';

const root = new URL('..', import.meta.url).pathname;
const tables = { 'serve-flags': serveFlags, 'sign-flags': signFlags };
let readme = readFileSync(`${root}README.md`, 'utf8');
for (const [section, flags] of Object.entries(tables)) {
  const rows = flags
    .filter((f) => f.name !== 'help')
    .map((f) => {
      const value = f.kind === 'boolean' ? '' : ` ${f.value}`;
      return `| \`--${f.name}${value}\` | ${f.env ? `\`${f.env}\`` : ''} | ${f.default !== undefined ? `\`${f.default}\`` : ''} | ${f.help} |`;
    });
  const table = ['| Flag | Variable | Default | What it does |', '|---|---|---|---|', ...rows].join(
    '\n',
  );
  const pattern = new RegExp(`(<!-- ${section}:start[^>]*-->)[\\s\\S]*?(<!-- ${section}:end -->)`);
  if (!pattern.test(readme)) throw new Error(`README.md has no ${section} section`);
  readme = readme.replace(pattern, `$1\n\n${table}\n\n$2`);
}
writeFileSync(`${root}README.md`, readme);
console.log('README flag tables rewritten.');
