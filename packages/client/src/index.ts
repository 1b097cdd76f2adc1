// @spool/client: resumable uploads that recover from any interruption. This entry point runs
// anywhere (browsers included): it uses no Node.js API. @spool/client/node adds file paths,
// node:http and a resume store on disk.
export * from './errors.js';
export * from './destination.js';
export { signedUrlObject } from './initiation.js';
export * from './connection.js';
export * from './connectivity.js';
export * from './transport.js';
export * from './sources.js';
export * from './state-store.js';
export * from './retry.js';
export * from './object.js';
export * from './storage-api.js';
export { validateChunkSize, chunkEnd, planKnownSize, type RequestPlan } from './plan.js';
export { RateMeter, secondsLeft } from './rate.js';
export { formatBytes } from './sizes.js';
export {
  Upload,
  upload,
  DEFAULT_STREAM_CHUNK_SIZE,
  type UploadOptions,
  type UploadEvents,
  type Progress,
  type SessionEvent,
  type RetryEvent,
} from './upload.js';
