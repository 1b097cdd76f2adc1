import { protocolError, fail, ok, type Result } from './protocol-error.js';

/** Generation preconditions, evaluated when an upload completes (never at initiation). */
export interface Preconditions {
  readonly ifGenerationMatch?: string;
  readonly ifGenerationNotMatch?: string;
  readonly ifMetagenerationMatch?: string;
  readonly ifMetagenerationNotMatch?: string;
}

export const PRECONDITION_NAMES = [
  'ifGenerationMatch',
  'ifGenerationNotMatch',
  'ifMetagenerationMatch',
  'ifMetagenerationNotMatch',
] as const;

/** Reads preconditions from query parameters; each must be a non-negative 64-bit integer. */
export function parsePreconditions(
  get: (name: string) => string | null | undefined,
): Result<Preconditions> {
  const out: Record<string, string> = {};
  for (const name of PRECONDITION_NAMES) {
    const value = get(name);
    if (value === null || value === undefined) continue;
    if (!/^\d{1,19}$/.test(value) || BigInt(value) > 9223372036854775807n) {
      return fail(
        protocolError(
          400,
          'invalid',
          `Invalid value for ${name}: "${value.slice(0, 40)}" is not a generation number.`,
        ),
      );
    }
    out[name] = String(BigInt(value));
  }
  return ok(out);
}

/** Whether the preconditions hold for the object's current generation (undefined: no object). */
export function preconditionsHold(
  conditions: Preconditions,
  current: { readonly generation: string; readonly metageneration: string } | undefined,
): boolean {
  const {
    ifGenerationMatch,
    ifGenerationNotMatch,
    ifMetagenerationMatch,
    ifMetagenerationNotMatch,
  } = conditions;
  if (ifGenerationMatch !== undefined) {
    if (
      ifGenerationMatch === '0' ? current !== undefined : current?.generation !== ifGenerationMatch
    )
      return false;
  }
  if (ifGenerationNotMatch !== undefined) {
    if (current === undefined) return false;
    if (ifGenerationNotMatch !== '0' && current.generation === ifGenerationNotMatch) return false;
  }
  if (ifMetagenerationMatch !== undefined && current?.metageneration !== ifMetagenerationMatch)
    return false;
  if (ifMetagenerationNotMatch !== undefined) {
    if (current === undefined || current.metageneration === ifMetagenerationNotMatch) return false;
  }
  return true;
}
