import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after } from 'node:test';
import type { NodeUploadOptions, NodeUploadSource, Progress } from '@spool/client/node';
import { download } from './gcs.js';

/** Retries without the production waits: milliseconds instead of seconds. */
export const fastRetry = { initialDelay: 5, maxDelay: 50 } as const;

/** Library options for a test against `endpoint`: fast retries, no resume store on disk. */
export function testOptions(endpoint: string, more: NodeUploadOptions = {}): NodeUploadOptions {
  return { endpoint, stateStore: null, retry: fastRetry, ...more };
}

/** A temporary directory, removed when the test file is done (call it at the top level). */
export async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spool-client-'));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function writeScratch(dir: string, name: string, data: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

/** The object's bytes as the server serves them. */
export async function readObject(
  base: string,
  name: string,
  bucket = 'test-bucket',
): Promise<Buffer> {
  const res = await download(base, bucket, name);
  if (res.status !== 200) throw new Error(`download of ${name}: ${res.status} ${res.text()}`);
  return res.body;
}

/** The MD5 of the object's bytes as the server serves them, read as a stream. */
export function objectMd5(base: string, name: string, bucket = 'test-bucket'): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = `${base}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`;
    get(url, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`download of ${name}: ${res.statusCode}`));
        return;
      }
      const hash = createHash('md5');
      res.on('data', (c: Buffer) => hash.update(c));
      res.on('end', () => resolve(hash.digest('base64')));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Every kind of source the client takes, made from the same bytes. */
export const sourceKinds: {
  readonly name: string;
  readonly stream: boolean;
  make(data: Buffer, path: string): NodeUploadSource;
}[] = [
  { name: 'a file path', stream: false, make: (_data, path) => path },
  { name: 'bytes (Uint8Array)', stream: false, make: (data) => new Uint8Array(data) },
  { name: 'a Blob', stream: false, make: (data) => new Blob([data]) },
  { name: 'a Node Readable', stream: true, make: (data) => Readable.from(pieces(data, 100_000)) },
  {
    name: 'a web ReadableStream',
    stream: true,
    make: (data) =>
      Readable.toWeb(Readable.from(pieces(data, 65_536))) as ReadableStream<Uint8Array>,
  },
  {
    name: 'an async iterable',
    stream: true,
    make: (data) =>
      (async function* () {
        for (const piece of pieces(data, 333_333)) {
          await new Promise((resolve) => setImmediate(resolve));
          yield piece;
        }
      })(),
  },
];

/** The data in pieces of `size` bytes (the last one shorter). */
export function pieces(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

/** Records progress events, and every time a counter went down. */
export class ProgressLog {
  readonly events: Progress[] = [];
  readonly backwards: string[] = [];

  readonly listener = (p: Progress): void => {
    const last = this.events[this.events.length - 1];
    if (last && (p.acknowledged < last.acknowledged || p.sent < last.sent)) {
      this.backwards.push(`${JSON.stringify(last)} then ${JSON.stringify(p)}`);
    }
    this.events.push(p);
  };

  get last(): Progress | undefined {
    return this.events[this.events.length - 1];
  }
}
