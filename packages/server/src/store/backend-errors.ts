/** Network failures, from any client library. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether an error means PostgreSQL or S3 is unreachable or failing for now (a retry may work),
 * rather than a bug: network errors, S3 5xx answers and timeouts, PostgreSQL's connection,
 * resource and shutdown errors (SQLSTATE classes 08, 53, 57P) and lost connections.
 */
export function isBackendUnavailable(error: unknown): boolean {
  const e = error as
    | {
        code?: unknown;
        name?: unknown;
        message?: unknown;
        $metadata?: { httpStatusCode?: number };
      }
    | undefined;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code)) return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (e.name === 'TimeoutError') return true;
  if (/^(08|53|57P)/.test(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /^Connection terminated|timeout exceeded when trying to connect/.test(message);
}
