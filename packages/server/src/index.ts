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
