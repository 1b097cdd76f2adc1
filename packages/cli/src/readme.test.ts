import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type { FlagSpec } from './flags.js';
import { serveFlags } from './serve.js';
import { signFlags } from './sign.js';

const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');

const commands: [string, readonly FlagSpec[]][] = [
  ['serve', serveFlags],
  ['sign', signFlags],
];

describe('README', () => {
  for (const [command, flags] of commands) {
    it(`documents every flag of spool ${command} with its variable and default`, () => {
      const pattern = new RegExp(
        `<!-- ${command}-flags:start[^>]*-->([\\s\\S]*?)<!-- ${command}-flags:end -->`,
      );
      const section = pattern.exec(readme)?.[1];
      assert.ok(
        section,
        `the README has a ${command}-flags section (node scripts/readme-flags.mjs writes it)`,
      );
      // Cells are compared trimmed: the formatter pads the table's columns.
      const rows = section
        .split('\n')
        .filter((line) => line.startsWith('| `--'))
        .map((line) =>
          line
            .split('|')
            .slice(1, -1)
            .map((cell) => cell.trim()),
        );
      const documented = flags.filter((f) => f.name !== 'help');
      assert.equal(rows.length, documented.length, 'one row per flag');
      for (const flag of documented) {
        const value = flag.kind === 'boolean' ? '' : ` ${flag.value}`;
        const expected = [
          `\`--${flag.name}${value}\``,
          flag.env ? `\`${flag.env}\`` : '',
          flag.default !== undefined ? `\`${flag.default}\`` : '',
          flag.help,
        ];
        assert.ok(
          rows.some((row) => row.join('|') === expected.join('|')),
          `README row for --${flag.name} should have the cells: ${expected.join(' | ')}`,
        );
      }
    });
  }
});
