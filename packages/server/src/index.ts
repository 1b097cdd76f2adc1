export { createHandler, type HandlerOptions } from './app.js';
export { FaultInjector } from './faults/injector.js';
export {
  startSpool,
  openDataDir,
  defaultOptions,
  type SpoolOptions,
  type RunningSpool,
} from './spool.js';
export { jsonLogger, silentLogger, type Logger, type LogLevel } from './log.js';
export type { Services } from './services.js';
export type * from './store/types.js';
export {
  verifySignedUrl,
  hostCandidates,
  signUrl,
  canonicalRequest,
  stringToSign,
  rawQueryPairs,
  publicKeyOf,
  type SigningCredential,
  type VerificationKeys,
  type SignatureProblem,
} from './auth/v4-signature.js';
export { loadSigningCredential, loadVerificationKeys, KeyFileError } from './auth/keys.js';
export { SessionLocks, type Lease, type Locker } from './locks.js';
export { openDistributed, type DistributedStorage } from './distributed.js';
export { PgMetadataStore } from './store/pg/metadata.js';
export { PgLocker, LOCK_CONNECTION_NAME } from './store/pg/locker.js';
export { migrate, migrations } from './store/pg/migrations.js';
export { createPool } from './store/pg/pool.js';
export { S3BlobStore } from './store/s3/blobs.js';
export { createS3Client, parseS3Url, type S3Location } from './store/s3/client.js';
