import {
  applyMetadataPatch,
  objectNotFound,
  objectResource,
  parseInitiationBody,
  parseMetadataPatch,
  preconditionFailed,
  protocolError,
} from '@spool/core';
import { readSmallBody, type BodyEnd, type ChunkSource } from '../http/body.js';
import type { Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import type { Services } from '../services.js';
import type { ObjectRecord } from '../store/types.js';
import { storeOneShot } from '../upload/one-shot.js';
import { requireBucket, requireObjectName } from './common.js';
import { queryPreconditions, requireObject } from './objects.js';

/** GCS composes at most 32 objects per request, into at most 1024 components. */
const MAX_COMPOSE_SOURCES = 32;
const MAX_COMPONENTS = 1024;

async function readJson(ctx: Context): Promise<unknown> {
  const raw = await readSmallBody(ctx.req, 256 * 1024);
  if (raw === 'too-large') throw badRequest('The request body is limited to 256 KiB.');
  try {
    return JSON.parse(raw.toString('utf8') || '{}');
  } catch {
    throw badRequest('Parse Error: the body is not valid JSON.', 'parseError');
  }
}

/** `PATCH /storage/v1/b/{bucket}/o/{object}`: changes metadata; the metageneration grows. */
export async function patchObject(
  app: Services,
  ctx: Context,
  bucket: string,
  name: string,
): Promise<void> {
  const patch = parseMetadataPatch(await readJson(ctx));
  if (!patch.ok) throw new HttpError(patch.error);
  const current = await requireObject(app, ctx, bucket, name, queryPreconditions(ctx));
  const next: ObjectRecord = {
    ...applyMetadataPatch(current, patch.value),
    contentType: patch.value.clear.includes('contentType')
      ? 'application/octet-stream'
      : (patch.value.set.contentType ?? current.contentType),
    metageneration: String(Number(current.metageneration) + 1),
    updated: new Date(app.now()).toISOString(),
  };
  if (!(await app.metadata.putObjectMetadata(next, current.metageneration)))
    throw new HttpError(preconditionFailed());
  sendJson(ctx, 200, objectResource(next, ctx.baseUrl));
}

interface ComposeSource {
  name: string;
  generation?: string;
  ifGenerationMatch?: string;
}

function parseComposeBody(value: unknown): {
  sources: ComposeSource[];
  destination: Record<string, unknown>;
} {
  const body = (value ?? {}) as { sourceObjects?: unknown; destination?: unknown };
  if (!Array.isArray(body.sourceObjects) || body.sourceObjects.length === 0) {
    throw badRequest(
      'A compose request needs sourceObjects: a list of 1 to 32 {"name": …} entries.',
      'required',
    );
  }
  if (body.sourceObjects.length > MAX_COMPOSE_SOURCES) {
    throw badRequest(
      `A compose request takes at most ${MAX_COMPOSE_SOURCES} source objects; this one has ${body.sourceObjects.length}.`,
    );
  }
  const generation = (v: unknown, field: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if ((typeof v !== 'string' && typeof v !== 'number') || !/^\d{1,19}$/.test(String(v))) {
      throw badRequest(`Invalid ${field}: it must be a generation number.`);
    }
    return String(v);
  };
  const sources = body.sourceObjects.map((entry: unknown, i): ComposeSource => {
    const source = entry as {
      name?: unknown;
      generation?: unknown;
      objectPreconditions?: { ifGenerationMatch?: unknown };
    };
    if (typeof source?.name !== 'string')
      throw badRequest(`sourceObjects[${i}] needs a "name" string.`);
    const gen = generation(source.generation, `sourceObjects[${i}].generation`);
    const match = generation(
      source.objectPreconditions?.ifGenerationMatch,
      `sourceObjects[${i}].objectPreconditions.ifGenerationMatch`,
    );
    return {
      name: requireObjectName(source.name),
      ...(gen && { generation: gen }),
      ...(match && { ifGenerationMatch: match }),
    };
  });
  const destination = body.destination;
  if (
    destination !== undefined &&
    (typeof destination !== 'object' || destination === null || Array.isArray(destination))
  ) {
    throw badRequest('destination must be an object resource.');
  }
  return { sources, destination: (destination ?? {}) as Record<string, unknown> };
}

/** The bytes of several blobs, one after another. */
class ConcatenatedBlobs implements ChunkSource {
  private index = 0;
  private current: AsyncIterator<Buffer> | undefined;
  private stopped = false;

  constructor(
    private readonly app: Services,
    private readonly parts: readonly ObjectRecord[],
  ) {}

  async next(): Promise<Buffer | BodyEnd> {
    while (!this.stopped) {
      if (!this.current) {
        const part = this.parts[this.index++];
        if (!part) return 'complete';
        if (part.size === 0) continue;
        const stream = await this.app.blobs.read(part.blobId, 0, part.size - 1);
        // A source replaced or deleted since it was looked up.
        if (!stream) throw new HttpError(objectNotFound(part.bucket, part.name));
        this.current = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      }
      const step = await this.current.next();
      if (!step.done) return step.value;
      this.current = undefined;
    }
    return 'interrupted';
  }

  stop(): void {
    this.stopped = true;
    void this.current?.return?.();
  }
}

/**
 * `POST /storage/v1/b/{bucket}/o/{destination}/compose`: concatenates up to 32 objects of the
 * bucket into a new composite object (which, as on GCS, has a CRC32C but no MD5).
 */
export async function composeObject(
  app: Services,
  ctx: Context,
  bucket: string,
  destinationName: string,
): Promise<void> {
  await requireBucket(app, bucket);
  requireObjectName(destinationName);
  const preconditions = queryPreconditions(ctx);
  const { sources, destination } = parseComposeBody(await readJson(ctx));
  const metadata = parseInitiationBody({
    ...destination,
    name: undefined,
    crc32c: undefined,
    md5Hash: undefined,
  });
  if (!metadata.ok) throw new HttpError(metadata.error);
  const parts: ObjectRecord[] = [];
  for (const source of sources) {
    const object = await app.metadata.getObject(bucket, source.name);
    if (!object || (source.generation !== undefined && object.generation !== source.generation)) {
      throw new HttpError(objectNotFound(bucket, source.name));
    }
    if (source.ifGenerationMatch !== undefined && object.generation !== source.ifGenerationMatch) {
      throw new HttpError(preconditionFailed());
    }
    parts.push(object);
  }
  const componentCount = parts.reduce((n, p) => n + (p.componentCount ?? 1), 0);
  if (componentCount > MAX_COMPONENTS) {
    throw new HttpError(
      protocolError(
        400,
        'invalid',
        `The composed object would have ${componentCount} components; the limit is ${MAX_COMPONENTS}.`,
      ),
    );
  }
  const result = await storeOneShot(app, new ConcatenatedBlobs(app, parts), {
    kind: 'compose',
    bucket,
    name: destinationName,
    metadata: metadata.value,
    size: parts.reduce((n, p) => n + p.size, 0),
    declaredHashes: [],
    preconditions,
    componentCount,
  });
  if (!result.ok) throw new HttpError(result.error);
  sendJson(ctx, 200, objectResource(result.object, ctx.baseUrl));
}
