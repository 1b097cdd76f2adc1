import type { VerificationKeys } from './auth/v4-signature.js';
import type { SessionLocks } from './locks.js';
import type { Logger } from './log.js';
import type { BlobStore, MetadataStore } from './store/types.js';

/** What request handlers work with. */
export interface Services {
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
  readonly locks: SessionLocks;
  readonly log: Logger;
  readonly sessionTtlMs: number;
  /** Keys V4 signed URLs are verified with. */
  readonly signatureKeys: VerificationKeys;
  now(): number;
}
