import { badRequest } from './errors.js';

/**
 * Query parameters decoded strictly: invalid percent-encoding or UTF-8 is an error instead of
 * silently becoming U+FFFD (which would turn a broken object name into a valid, different one).
 */
export class Query {
  private readonly params = new Map<string, string>();
  readonly raw: string;

  constructor(search: string) {
    this.raw = search;
    if (search === '') return;
    for (const part of search.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = decode(eq < 0 ? part : part.slice(0, eq));
      const value = eq < 0 ? '' : decode(part.slice(eq + 1));
      if (!this.params.has(key)) this.params.set(key, value);
    }
  }

  get(name: string): string | undefined {
    return this.params.get(name);
  }

  has(name: string): boolean {
    return this.params.has(name);
  }

  /** A non-negative integer parameter within [min, max], or the default. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.get(name);
    if (value === undefined || value === '') return fallback;
    if (!/^\d{1,15}$/.test(value) || Number(value) < min) {
      throw badRequest(
        `Invalid value for ${name}: "${value.slice(0, 40)}" is not an integer of at least ${min}.`,
      );
    }
    return Math.min(Number(value), max);
  }

  /** A boolean parameter ("true" or "false"). */
  flag(name: string): boolean {
    const value = this.get(name);
    if (value === undefined || value === 'false') return false;
    if (value === 'true' || value === '') return true;
    throw badRequest(`Invalid value for ${name}: "${value.slice(0, 40)}" is not true or false.`);
  }
}

/** Decodes a query component: "+" is a space there. */
export function decode(text: string): string {
  return decodePath(text.replace(/\+/g, ' '));
}

/** Decodes a path segment: "+" is itself there. */
export function decodePath(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw badRequest(`The URL is not valid percent-encoded UTF-8 near "${text.slice(0, 40)}".`);
  }
}
