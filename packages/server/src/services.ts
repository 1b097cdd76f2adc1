import type { TokenGrant } from './auth/tokens.js';
import type { VerificationKeys } from './auth/v4-signature.js';
import type { CorsPolicy } from './http/cors.js';
import type { Locker } from './locks.js';
import type { Logger } from './log.js';
import type { SpoolMetrics } from './ops/metrics.js';
import type { RateLimiter } from './ops/rate-limiter.js';
import type { BlobStore, MetadataStore } from './store/types.js';

/** Limits on what a client may ask of the server; each is a flag of `spool serve`. */
export interface Limits {
  /** Largest object, in bytes. */
  readonly maxObjectSize: number;
  /** Open resumable sessions one token may have. */
  readonly maxSessionsPerToken: number;
  /** A request body slower than this (bytes a second, over each check window) is cut; 0: never. */
  readonly minBodyRate: number;
  /** How long a window the body rate is measured over, in milliseconds. */
  readonly bodyRateWindowMs: number;
}

/** What request handlers work with. */
export interface Services {
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
  readonly locks: Locker;
  readonly log: Logger;
  readonly sessionTtlMs: number;
  /** Keys V4 signed URLs are verified with. */
  readonly signatureKeys: VerificationKeys;
  /** Bearer tokens by SHA-256; undefined when the server requires none (the emulator default). */
  readonly tokens: ReadonlyMap<string, TokenGrant> | undefined;
  readonly cors: CorsPolicy;
  readonly limits: Limits;
  /** Session starts per token (or client address). */
  readonly sessionRate: RateLimiter;
  readonly metrics: SpoolMetrics;
  now(): number;
}
