import { InvalidOptionsError } from './errors.js';

// When to retry and how long to wait. GCS's guidance (research/gcs-protocol.md §7): retry 408, 429,
// 5xx, socket timeouts and disconnects, with truncated exponential backoff and random jitter. Two
// departures from Google's own clients, both on purpose (research/clients.md §6, §7): the budget
// counts failures in a row *without progress*, so an upload of any length can always be retried,
// and the optional deadline is one the caller chooses, not a hidden per-upload timer.

export interface RetryOptions {
  /** Failures in a row, without a byte of progress, before giving up. 0 turns retries off. */
  readonly retries?: number;
  /** The first wait, in ms. */
  readonly initialDelay?: number;
  /** The longest wait between two attempts, in ms (a Retry-After header may ask for more). */
  readonly maxDelay?: number;
  readonly multiplier?: number;
  /** Give up once this many ms have passed since the upload started. No deadline by default. */
  readonly deadline?: number;
}

export type RetryPolicy = Required<Omit<RetryOptions, 'deadline'>> & {
  readonly deadline: number | undefined;
};

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 10,
  initialDelay: 1000,
  maxDelay: 32_000,
  multiplier: 2,
  deadline: undefined,
};

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...stripUndefined(options) };
  for (const key of ['retries', 'initialDelay', 'maxDelay', 'multiplier'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) {
      throw new InvalidOptionsError(`retry.${key} must be a number ≥ 0; got ${policy[key]}.`);
    }
  }
  if (policy.deadline !== undefined && !(policy.deadline > 0)) {
    throw new InvalidOptionsError(
      `retry.deadline must be a number of ms > 0; got ${policy.deadline}.`,
    );
  }
  return policy;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The wait before retry number `attempt` (1 for the first retry): the exponential step capped at
 * maxDelay, plus a random jitter of up to a second (less for short steps), as GCS recommends.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const step = Math.min(policy.initialDelay * policy.multiplier ** (attempt - 1), policy.maxDelay);
  return Math.round(step + random() * Math.min(step, 1000));
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`; undefined if absent or bad. */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Statuses GCS documents as retryable. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * GCS's 503 for a chunk that starts past what it has ("…the upload offset is X byte(s), which
 * exceeds already uploaded size of Y byte(s)."). A 503, yet it never clears by waiting: it means
 * client and server disagree about the data, so it is not retried.
 */
export function offsetExceedsUploaded(
  status: number,
  body: string,
): { offset: number; persisted: number } | undefined {
  if (status !== 503) return undefined;
  const m =
    /upload offset is (\d+) byte\(s\), which exceeds already uploaded size of (\d+) byte\(s\)/.exec(
      body,
    );
  return m ? { offset: Number(m[1]), persisted: Number(m[2]) } : undefined;
}

/**
 * GCS's 400 for a final request whose X-Goog-Hash does not match the bytes the server stored
 * ('Provided CRC32C "…" doesn't match calculated CRC32C "…".', or the MD5 one). The session can
 * never complete: it holds bytes this client did not send.
 */
export function hashMismatch(status: number, body: string): boolean {
  return status === 400 && /Provided (CRC32C|MD5 hash) "[^"]*" doesn't match calculated/.test(body);
}

/**
 * Connection errors that are worth retrying at once. Refused connections and failed name lookups
 * are retried only once the server has answered during this upload (a restart, a failover): on
 * the first contact they almost always mean a wrong endpoint, and saying so beats minutes of
 * backoff. TLS certificate errors are never retried.
 */
export function isRetryableNetworkError(errno: string | undefined, contacted: boolean): boolean {
  if (errno === undefined) return true;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_INVALID_URL/.test(errno)) return false;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_FAIL'].includes(errno)) {
    return contacted;
  }
  return true;
}

/** Counts failures without progress; `progress()` starts the count again. */
export class RetryBudget {
  private failures = 0;
  private total = 0;
  /** Failures while offline since the last progress: they lengthen the waits, nothing more. */
  private offline = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** Failures in a row since the last progress. */
  get attempt(): number {
    return this.failures;
  }

  /** Failures over the whole upload. */
  get failed(): number {
    return this.total;
  }

  progress(): void {
    this.failures = 0;
    this.offline = 0;
  }

  /**
   * Records a failure. Returns how long to wait before trying again, or undefined when the
   * budget is spent. A Retry-After from the server is honoured when it asks for longer.
   */
  failure(retryAfter?: number): number | undefined {
    this.failures++;
    this.total++;
    if (this.failures > this.policy.retries) return undefined;
    return this.delay(retryAfter);
  }

  /**
   * Records a failure while the device is offline. Waiting for the network is not the server
   * failing, so it spends no budget and never ends the upload; the waits still grow, up to the
   * longest.
   */
  offlineFailure(retryAfter?: number): number {
    this.offline++;
    this.total++;
    return this.delay(retryAfter);
  }

  private delay(retryAfter: number | undefined): number {
    const attempt = this.failures + this.offline;
    return Math.max(backoffDelay(attempt, this.policy, this.random), retryAfter ?? 0);
  }
}
