import { createHash } from 'node:crypto';
import { bucketNameProblem } from '@spool/core';

// Bearer tokens from a file, one per line:  TOKEN [BUCKETS] [until=TIME]
//   BUCKETS  comma-separated buckets the token may use; "*" or nothing means every bucket
//   TIME     an ISO 8601 time after which the token is refused

/** What a token allows. */
export interface TokenGrant {
  /** A short, non-secret name for logs and metrics: the start of the token's SHA-256. */
  readonly id: string;
  readonly buckets: ReadonlySet<string> | 'all';
  readonly expiresAt: number | undefined;
}

export class TokenFileError extends Error {}

/** Tokens shorter than this are refused when the file is read: guessable tokens are no tokens. */
export const MIN_TOKEN_LENGTH = 16;

const TOKEN_CHARS = /^[A-Za-z0-9._~+/=-]+$/;

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** Parses a token file; errors name the line and what to fix, never the token itself. */
export function parseTokenFile(text: string, source = 'token file'): Map<string, TokenGrant> {
  const grants = new Map<string, TokenGrant>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source}:${index + 1}`;
    const [token, ...rest] = line.split(/\s+/);
    if (!token || !TOKEN_CHARS.test(token)) {
      throw new TokenFileError(`${where}: a token is letters, digits and ._~+/=- only.`);
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new TokenFileError(
        `${where}: tokens must have at least ${MIN_TOKEN_LENGTH} characters (try: openssl rand -hex 24).`,
      );
    }
    let buckets: ReadonlySet<string> | 'all' = 'all';
    let expiresAt: number | undefined;
    for (const field of rest) {
      if (field.startsWith('until=')) {
        expiresAt = Date.parse(field.slice('until='.length));
        if (Number.isNaN(expiresAt))
          throw new TokenFileError(
            `${where}: "${field}" is not an ISO 8601 time (until=2027-01-31T00:00:00Z).`,
          );
      } else if (field !== '*') {
        const names = field.split(',').filter(Boolean);
        for (const name of names) {
          const problem = bucketNameProblem(name);
          if (problem)
            throw new TokenFileError(
              `${where}: "${name.slice(0, 64)}" is not a bucket name. ${problem}`,
            );
        }
        buckets = new Set(names);
      }
    }
    const key = digest(token);
    if (grants.has(key)) throw new TokenFileError(`${where}: this token is listed twice.`);
    grants.set(key, { id: key.slice(0, 12), buckets, expiresAt });
  });
  if (grants.size === 0) throw new TokenFileError(`${source} lists no tokens.`);
  return grants;
}

export type Authentication =
  | { readonly kind: 'none' }
  | { readonly kind: 'granted'; readonly grant: TokenGrant }
  | { readonly kind: 'malformed' | 'unknown' }
  | { readonly kind: 'expired'; readonly grant: TokenGrant };

/**
 * Looks a presented bearer token up by its SHA-256, so the time taken depends on a hash of the
 * token, not on how much of a real token a guess got right.
 */
export function authenticate(
  grants: ReadonlyMap<string, TokenGrant>,
  authorization: string | undefined,
  now: number,
): Authentication {
  if (authorization === undefined || authorization.trim() === '') return { kind: 'none' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m || m[1]!.length > 4096) return { kind: 'malformed' };
  const grant = grants.get(digest(m[1]!));
  if (!grant) return { kind: 'unknown' };
  if (grant.expiresAt !== undefined && now >= grant.expiresAt) return { kind: 'expired', grant };
  return { kind: 'granted', grant };
}

export function mayUseBucket(grant: TokenGrant, bucket: string): boolean {
  return grant.buckets === 'all' || grant.buckets.has(bucket);
}
