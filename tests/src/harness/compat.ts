import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from './spool-process.js';

/** Where compatibility tests record their outcome; scripts/compat-table.mjs turns it into the README table. */
export const compatResultsFile = `${repoRoot}/tests/dist/compat-results.jsonl`;

/**
 * A test of one operation of a real tool against Spool. Its outcome is recorded, so the README's
 * compatibility table is what the suite measured, not what someone wrote.
 */
export function compat(tool: string, operation: string, fn: () => Promise<void>): void {
  it(`${tool}: ${operation}`, async () => {
    let ok = false;
    try {
      await fn();
      ok = true;
    } finally {
      mkdirSync(dirname(compatResultsFile), { recursive: true });
      appendFileSync(compatResultsFile, `${JSON.stringify({ tool, operation, ok })}\n`);
    }
  });
}
