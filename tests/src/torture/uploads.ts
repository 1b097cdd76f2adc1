// Uploads of every shape through the real client, and a ledger of what the server must hold
// afterwards: the torture phases share them.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createUpload,
  type Destination,
  type NodeUploadOptions,
  type NodeUploadSource,
} from '@spool/client/node';
import { send } from '../harness/http.js';
import { KiB, MiB } from '../harness/gcs.js';
import { seededBuffer, seededContent, type Random } from '../harness/random.js';

export const BUCKET = 'torture';

export type SourceKind = 'file' | 'bytes' | 'readable' | 'iterable';

/** One upload: what it sends and how. Its bytes are `seededContent(seed, size)`. */
export interface UploadSpec {
  readonly name: string;
  readonly seed: number;
  readonly size: number;
  readonly kind: SourceKind;
  /** Undefined: one streaming request (files and bytes only). */
  readonly chunkSize: number | undefined;
}

const CHUNK_SIZES = [256 * KiB, 512 * KiB, MiB, 2 * MiB];

/**
 * A random upload of up to `maxSize` bytes under one of `names`: empty, shorter than 256 KiB,
 * an exact multiple of 256 KiB, or anything, from a file, bytes, a Node Readable or an async
 * iterable, in one request or in chunks of several sizes.
 */
export function randomSpec(random: Random, names: readonly string[], maxSize: number): UploadSpec {
  const roll = random.next();
  const size =
    roll < 0.05
      ? 0
      : roll < 0.2
        ? random.int(1, 256 * KiB - 1)
        : roll < 0.3
          ? 256 * KiB * random.int(1, Math.max(1, Math.floor(maxSize / (256 * KiB))))
          : random.int(1, maxSize);
  const kind = random.pick<SourceKind>(['file', 'bytes', 'readable', 'iterable']);
  const streaming = kind === 'readable' || kind === 'iterable';
  const chunkSize = streaming || random.chance(0.5) ? random.pick(CHUNK_SIZES) : undefined;
  return { name: random.pick(names), seed: random.int(1, 2 ** 31), size, kind, chunkSize };
}

/** An object's bytes: the concatenation of seeded contents (one, or several when composed). */
export type Content = readonly { readonly seed: number; readonly size: number }[];

export const sizeOf = (content: Content) => content.reduce((n, part) => n + part.size, 0);

/** The MD5 of a content's bytes, base64 as GCS shows it. */
export function contentMd5(content: Content): string {
  const hash = createHash('md5');
  for (const { seed, size } of content)
    for (const piece of seededContent(seed, size)) hash.update(piece);
  return hash.digest('base64');
}

/** Stream pieces of random sizes, as a network or a pipe would hand them over. */
async function* pieces(spec: UploadSpec, random: Random): AsyncGenerator<Buffer> {
  for (const block of seededContent(spec.seed, spec.size)) {
    for (let at = 0; at < block.length;) {
      const n = random.int(1, 200 * KiB);
      yield block.subarray(at, at + n);
      at += n;
      if (random.chance(0.1)) await new Promise((r) => setImmediate(r));
    }
  }
}

/** The source the client gets; `done` removes what it left on disk. */
export async function openSpecSource(
  spec: UploadSpec,
  random: Random,
  scratch: string,
): Promise<{ source: NodeUploadSource; done: () => Promise<void> }> {
  const none = () => Promise.resolve();
  switch (spec.kind) {
    case 'file': {
      const path = join(scratch, `${spec.seed}-${spec.size}.bin`);
      await pipeline(Readable.from(seededContent(spec.seed, spec.size)), createWriteStream(path));
      return { source: path, done: () => rm(path, { force: true }) };
    }
    case 'bytes':
      return { source: new Uint8Array(seededBuffer(spec.seed, spec.size)), done: none };
    case 'readable':
      return { source: Readable.from(pieces(spec, random)), done: none };
    case 'iterable':
      return { source: pieces(spec, random), done: none };
  }
}

/** What the client of one upload has been told: its session, and the bytes the server confirmed. */
export interface Acknowledgement {
  uri: string | undefined;
  acknowledged: number;
}

export interface UploadOutcome {
  readonly generation: string;
  readonly md5: string;
}

/**
 * Runs one upload through the real client and checks the object it reports against the spec's
 * bytes. `seen` follows the client's session and acknowledgements as they happen.
 */
export async function runUpload(
  spec: UploadSpec,
  endpoint: string,
  random: Random,
  scratch: string,
  seen: Acknowledgement,
  options: NodeUploadOptions = {},
  destination: Destination = `gs://${BUCKET}/${spec.name}`,
): Promise<UploadOutcome> {
  const { source, done } = await openSpecSource(spec, random, scratch);
  try {
    const task = await createUpload(source, destination, {
      endpoint,
      stateStore: null,
      chunkSize: spec.chunkSize,
      retry: { initialDelay: 20, maxDelay: 500, retries: 30 },
      stallTimeout: 30_000,
      ...options,
    });
    task.on('session', ({ uri }) => {
      seen.uri = uri;
      seen.acknowledged = 0;
    });
    task.on('progress', ({ acknowledged }) => {
      seen.acknowledged = Math.max(seen.acknowledged, acknowledged);
    });
    const object = await task.start();
    const md5 = contentMd5([spec]);
    if (object.md5Hash !== md5 || object.size !== String(spec.size)) {
      throw new Error(
        `the client accepted an object of ${object.size} bytes with MD5 ${object.md5Hash}; sent ${spec.size} bytes with MD5 ${md5}`,
      );
    }
    if (object.generation === undefined) throw new Error('the object has no generation');
    return { generation: object.generation, md5 };
  } finally {
    await done();
  }
}

/**
 * A request that is repeated until it gets an answer (the network or the server may be down, or
 * silent); `request` is asked each time, for the server's current address.
 */
export async function sendUntilAnswered(
  request: () => Parameters<typeof send>[0],
  attempts = 200,
): Promise<Awaited<ReturnType<typeof send>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send({ idleTimeoutMs: 10_000, ...request() });
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * What the bucket must hold: per object name, the generations uploads created (with their bytes)
 * and the ones deleted. The newest generation wins, unless it was deleted.
 */
export class Ledger {
  private readonly created = new Map<string, Map<string, Content>>();
  private readonly deleted = new Set<string>();

  record(name: string, generation: string, content: Content): void {
    let generations = this.created.get(name);
    if (!generations) this.created.set(name, (generations = new Map<string, Content>()));
    generations.set(generation, content);
  }

  recordDelete(name: string, generation: string): void {
    this.deleted.add(`${name}#${generation}`);
  }

  /** The newest generation known for a name, and its bytes. */
  newest(name: string): { generation: string; content: Content } | undefined {
    const generations = this.created.get(name);
    if (!generations) return undefined;
    const generation = [...generations.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? 1 : -1))[0]!;
    return { generation, content: generations.get(generation)! };
  }

  /** Every name, with what it must hold now: its bytes, or nothing. */
  *expected(): Generator<{ name: string; content: Content | undefined }> {
    for (const name of this.created.keys()) {
      const { generation, content } = this.newest(name)!;
      yield { name, content: this.deleted.has(`${name}#${generation}`) ? undefined : content };
    }
  }
}

/**
 * Deletes one generation of an object, asking again until it gets an answer. Records it when it
 * is gone (deleted now, or by an earlier attempt whose answer was lost).
 */
export async function deleteGeneration(
  base: () => string,
  ledger: Ledger,
  name: string,
  generation: string,
): Promise<void> {
  const res = await sendUntilAnswered(() => ({
    method: 'DELETE',
    url: `${base()}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(name)}?ifGenerationMatch=${generation}`,
  }));
  if (res.status === 204 || res.status === 404) ledger.recordDelete(name, generation);
  else if (res.status !== 412) throw new Error(`DELETE ${name}: ${res.status} ${res.text()}`);
}

/**
 * Downloads every object the ledger knows and compares it with what it must hold. Returns the
 * problems and the bytes compared.
 */
export async function verifyBucket(
  base: string,
  ledger: Ledger,
): Promise<{ problems: string[]; objects: number; bytes: number }> {
  const problems: string[] = [];
  let objects = 0;
  let bytes = 0;
  for (const { name, content } of ledger.expected()) {
    const res = await send({
      method: 'GET',
      url: `${base}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(name)}?alt=media`,
    });
    if (content === undefined) {
      if (res.status !== 404)
        problems.push(`${name}: deleted, yet the server answers ${res.status}`);
      continue;
    }
    if (res.status !== 200) {
      problems.push(`${name}: ${res.status} ${res.text().slice(0, 200)}`);
      continue;
    }
    const md5 = createHash('md5').update(res.body).digest('base64');
    if (res.body.length !== sizeOf(content) || md5 !== contentMd5(content)) {
      problems.push(
        `${name}: the server has ${res.body.length} bytes (MD5 ${md5}), not the ${sizeOf(content)} uploaded`,
      );
      continue;
    }
    objects++;
    bytes += sizeOf(content);
  }
  return { problems, objects, bytes };
}

/**
 * Uploads a spec's bytes in one request (uploadType=media or multipart), sending it again until
 * an answer comes. Returns the generation it created.
 */
export async function oneRequestUpload(
  base: () => string,
  spec: UploadSpec,
  type: 'media' | 'multipart',
): Promise<string> {
  const data = seededBuffer(spec.seed, spec.size);
  const boundary = 'torture-boundary';
  const body =
    type === 'media'
      ? data
      : Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{"name":${JSON.stringify(spec.name)}}\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n`,
          ),
          data,
          Buffer.from(`\r\n--${boundary}--`),
        ]);
  const name = type === 'media' ? `&name=${encodeURIComponent(spec.name)}` : '';
  const res = await sendUntilAnswered(() => ({
    method: 'POST',
    url: `${base()}/upload/storage/v1/b/${BUCKET}/o?uploadType=${type}${name}`,
    headers: {
      'content-type':
        type === 'media' ? 'application/octet-stream' : `multipart/related; boundary=${boundary}`,
    },
    body,
  }));
  if (res.status !== 200)
    throw new Error(`${type} upload of ${spec.name}: ${res.status} ${res.text()}`);
  return res.json<{ generation: string }>().generation;
}

/**
 * Composes the newest generations of `sources` into `name`; the new generation, or undefined
 * when a source changed meanwhile.
 */
export async function compose(
  base: () => string,
  ledger: Ledger,
  name: string,
  sources: readonly string[],
): Promise<string | undefined> {
  const parts = sources.map((source) => ({ source, newest: ledger.newest(source) }));
  if (parts.some((p) => p.newest === undefined)) return undefined;
  const res = await sendUntilAnswered(() => ({
    method: 'POST',
    url: `${base()}/storage/v1/b/${BUCKET}/o/${encodeURIComponent(name)}/compose`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      sourceObjects: parts.map((p) => ({ name: p.source, generation: p.newest!.generation })),
    }),
  }));
  if (res.status === 404 || res.status === 412) return undefined;
  if (res.status !== 200) throw new Error(`compose into ${name}: ${res.status} ${res.text()}`);
  const generation = res.json<{ generation: string }>().generation;
  ledger.record(
    name,
    generation,
    parts.flatMap((p) => p.newest!.content),
  );
  return generation;
}
