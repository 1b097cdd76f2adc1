// @spool/client/browser: everything in @spool/client with a browser's defaults: XMLHttpRequest
// (for upload progress), interrupted uploads remembered in localStorage (to resume after a
// reload), and the browser's online and offline events. It is also built into one file,
// spool-client.js, that a page can import as a module.
import type { Connectivity } from '../connectivity.js';
import type { Destination } from '../destination.js';
import type { ObjectResource } from '../object.js';
import type { UploadSource } from '../sources.js';
import type { ResumeStateStore } from '../state-store.js';
import type { Transport } from '../transport.js';
import { DEFAULT_STREAM_CHUNK_SIZE, Upload, type UploadOptions } from '../upload.js';
import { browserConnectivity } from './connectivity.js';
import { WebStorageStateStore } from './state-store.js';
import { XhrTransport } from './xhr-transport.js';

export * from '../index.js';
export { XhrTransport } from './xhr-transport.js';
export { WebStorageStateStore } from './state-store.js';
export { browserConnectivity } from './connectivity.js';

/**
 * Files and Blobs go in chunks of this size in a browser, not in one request. Chromium resends a
 * whole request, silently, when the reused connection it went out on is reset before an answer
 * (the page never hears of it); the server skips the bytes it already has, but they cross the
 * network again. A chunk bounds that to 8 MiB per reset instead of the whole file.
 */
export const BROWSER_CHUNK_SIZE = DEFAULT_STREAM_CHUNK_SIZE;

/**
 * Options with browser defaults; `null` turns the resume store or the network watch off, or
 * sends a file in one request (`chunkSize: null`).
 */
export type BrowserUploadOptions = Omit<
  UploadOptions,
  'transport' | 'stateStore' | 'connectivity' | 'chunkSize'
> & {
  readonly chunkSize?: number | null;
  readonly transport?: Transport;
  readonly stateStore?: ResumeStateStore | null;
  readonly connectivity?: Connectivity | null;
};

let sharedTransport: XhrTransport | undefined;
/** The transport the defaults use; pass it to querySession, listObjects and the like. */
export function defaultTransport(): XhrTransport {
  return (sharedTransport ??= new XhrTransport());
}

/** An Upload with the browser's defaults, for progress events, pause, resume and cancel. */
export function createUpload(
  source: UploadSource,
  destination: Destination,
  options: BrowserUploadOptions = {},
): Upload {
  const { chunkSize, ...rest } = options;
  return new Upload(source, destination, {
    ...rest,
    ...(chunkSize !== null && { chunkSize: chunkSize ?? BROWSER_CHUNK_SIZE }),
    transport: options.transport ?? defaultTransport(),
    stateStore:
      options.stateStore === null ? undefined : (options.stateStore ?? new WebStorageStateStore()),
    connectivity:
      options.connectivity === null ? undefined : (options.connectivity ?? browserConnectivity()),
  });
}

/**
 * Uploads a File, a Blob, bytes, a ReadableStream or an async iterable, and resolves to the
 * object resource once its size and hashes are checked.
 */
export function upload(
  source: UploadSource,
  destination: Destination,
  options: BrowserUploadOptions = {},
): Promise<ObjectResource> {
  return createUpload(source, destination, options).start();
}
