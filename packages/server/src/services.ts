import type { Locker } from './locks.js';
import type { Logger } from './log.js';
import type { BlobStore, MetadataStore } from './store/types.js';

/** What request handlers work with. */
export interface Services {
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
  readonly locks: Locker;
  readonly log: Logger;
  readonly sessionTtlMs: number;
  now(): number;
}
