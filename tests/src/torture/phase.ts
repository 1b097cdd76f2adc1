import type { Random } from '../harness/random.js';

/** What every torture phase gets. */
export interface PhaseContext {
  readonly random: Random;
  /** A directory of its own for files the phase writes (sources); removed afterwards. */
  readonly scratch: string;
  /** Progress lines for the person watching. */
  readonly log: (line: string) => void;
}

/** What a phase measured, and every broken promise it saw (none, in a passing run). */
export interface PhaseResult {
  readonly figures: Readonly<Record<string, number | string>>;
  readonly violations: readonly string[];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The server's error-level log lines, as violations: a sound server logs none. */
export function loggedErrors(lines: readonly string[], where: string): string[] {
  return lines.map((line) => `${where} logged an error: ${line.slice(0, 500)}`);
}
