/** A command-line flag, which can also be set through an environment variable. */
export interface FlagSpec {
  readonly name: string;
  readonly env?: string;
  readonly kind: 'string' | 'integer' | 'boolean' | 'list' | 'duration' | 'size';
  readonly default?: string;
  readonly value?: string;
  readonly help: string;
}

export type FlagValue = string | number | boolean | string[] | undefined;

export class UsageError extends Error {}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** "90s", "15m", "7d", "250ms" → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]!);
}

/** "8MiB", "256KiB", "1.5GB", "1048576" → bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const value = Number(m[1]) * unit;
  return Number.isSafeInteger(value) ? value : undefined;
}

function convert(spec: FlagSpec, raw: string, source: string): FlagValue {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off|)$/i.test(raw)) return false;
      throw new UsageError(`${source} must be true or false, not "${raw}".`);
    case 'integer': {
      if (!/^\d{1,9}$/.test(raw))
        throw new UsageError(`${source} must be a whole number, not "${raw}".`);
      return Number(raw);
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined)
        throw new UsageError(`${source} must be a duration such as 30s, 15m, 7d, not "${raw}".`);
      return ms;
    }
    case 'size': {
      const bytes = parseSize(raw);
      if (bytes === undefined)
        throw new UsageError(
          `${source} must be a size such as 8MiB, 256KiB or 1048576, not "${raw}".`,
        );
      return bytes;
    }
  }
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name`; flags override environment
 * variables, which override defaults. List flags may repeat. `explicit` names the flags given on
 * the command line or in the environment (not left at their default).
 */
export function parseFlags(
  specs: readonly FlagSpec[],
  argv: readonly string[],
  env: Record<string, string | undefined>,
): { values: Record<string, FlagValue>; positionals: string[]; explicit: Set<string> } {
  const values: Record<string, FlagValue> = {};
  const explicit = new Set<string>();
  for (const spec of specs) {
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') {
      values[spec.name] = convert(spec, fromEnv, `$${spec.env}`);
      explicit.add(spec.name);
    } else if (spec.default !== undefined)
      values[spec.name] = convert(spec, spec.default, `--${spec.name}`);
  }
  const fromArgs = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new UsageError(`Unknown flag --${name}. Run with --help to see the flags.`);
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (spec.kind === 'boolean') raw = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`--${name} needs a value.`);
      raw = next;
      i++;
    }
    const value = convert(spec, raw, `--${name}`);
    if (spec.kind === 'list' && fromArgs.has(name)) {
      values[name] = [...(values[name] as string[]), ...(value as string[])];
    } else {
      values[name] = value;
    }
    fromArgs.add(name);
    explicit.add(name);
  }
  return { values, positionals, explicit };
}

/** The flag list for --help. */
export function formatFlags(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `  --${s.name}${s.kind === 'boolean' ? '' : ` ${s.value ?? s.kind.toUpperCase()}`}`;
    const extras = [
      s.env ? `$${s.env}` : '',
      s.default !== undefined ? `default ${s.default}` : '',
    ].filter(Boolean);
    return [left, `${s.help}${extras.length ? ` (${extras.join('; ')})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => l.padEnd(width) + r).join('\n');
}
