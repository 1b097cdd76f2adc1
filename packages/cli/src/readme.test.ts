import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { serveFlags } from './serve.js';

const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every flag of spool serve with its variable and default', () => {
    const section = /<!-- serve-flags:start[^>]*-->([\s\S]*?)<!-- serve-flags:end -->/.exec(
      readme,
    )?.[1];
    assert.ok(section, 'the README has a serve-flags section');
    const rows = section.split('\n').filter((line) => line.startsWith('| `--'));
    const documented = serveFlags.filter((f) => f.name !== 'help');
    assert.equal(rows.length, documented.length, 'one row per flag');
    for (const flag of documented) {
      const value = flag.kind === 'boolean' ? '' : ` ${flag.value}`;
      const expected = `| \`--${flag.name}${value}\` | ${flag.env ? `\`${flag.env}\`` : ''} | ${flag.default !== undefined ? `\`${flag.default}\`` : ''} | ${flag.help} |`;
      assert.ok(rows.includes(expected), `README row for --${flag.name} should read:\n${expected}`);
    }
  });
});
