// @spool/client/node: everything in @spool/client, plus what only Node has: file paths, Node
// streams, node:http, and a resume store under the user's cache directory.
import type { Readable } from 'node:stream';
import type { Destination } from '../destination.js';
import type { ObjectResource } from '../object.js';
import type { UploadSource } from '../sources.js';
import { Upload, type UploadOptions } from '../upload.js';
import { fileSource } from './file-source.js';
import { nodeHasher } from './hasher.js';
import { FileStateStore } from './state-store.js';
import { NodeHttpTransport } from './transport.js';

export * from '../index.js';
export { fileSource } from './file-source.js';
export { FileStateStore, defaultCacheDir } from './state-store.js';
export { NodeHttpTransport } from './transport.js';
export { stdinSource } from './stdin.js';
export { nodeHasher } from './hasher.js';

/** What Node's `upload` takes: a file path, a Node Readable, or anything @spool/client does. */
export type NodeUploadSource = string | Readable | UploadSource;

/**
 * Options with Node defaults: a NodeHttpTransport, and a FileStateStore so that an interrupted
 * upload of a file resumes when the program runs again (pass `stateStore: null` to turn it off).
 */
export type NodeUploadOptions = Omit<UploadOptions, 'transport' | 'stateStore'> & {
  readonly transport?: UploadOptions['transport'];
  readonly stateStore?: UploadOptions['stateStore'] | null;
};

/** One transport for the process: idle keep-alive connections do not keep it running. */
let sharedTransport: NodeHttpTransport | undefined;
export function defaultTransport(): NodeHttpTransport {
  return (sharedTransport ??= new NodeHttpTransport());
}

/** An Upload with Node's defaults, for progress events, pause and resume; `start()` runs it. */
export async function createUpload(
  source: NodeUploadSource,
  destination: Destination,
  options: NodeUploadOptions = {},
): Promise<Upload> {
  const opened = typeof source === 'string' ? await fileSource(source) : source;
  return new Upload(opened, destination, {
    ...options,
    transport: options.transport ?? defaultTransport(),
    createHasher: options.createHasher ?? (() => nodeHasher(options.md5 ?? false)),
    stateStore:
      options.stateStore === null ? undefined : (options.stateStore ?? new FileStateStore()),
  });
}

/**
 * Uploads a file (by path), a Node Readable, a Blob, bytes, a web ReadableStream or an async
 * iterable, and resolves to the object resource once its size and hashes are checked.
 */
export async function upload(
  source: NodeUploadSource,
  destination: Destination,
  options: NodeUploadOptions = {},
): Promise<ObjectResource> {
  return (await createUpload(source, destination, options)).start();
}
