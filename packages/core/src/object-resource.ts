import { decodeBase64 } from './base64.js';
import { objectNameProblem, utf8Length } from './names.js';
import { fail, ok, protocolError, type Result } from './protocol-error.js';

/** Metadata a client may set on an object (at initiation, or by PATCH). */
export interface ObjectMetadata {
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly contentDisposition?: string;
  readonly contentLanguage?: string;
  readonly cacheControl?: string;
  readonly customTime?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** An object as Spool stores it. */
export interface StoredObject extends ObjectMetadata {
  readonly bucket: string;
  readonly name: string;
  readonly generation: string;
  readonly metageneration: string;
  readonly size: number;
  readonly crc32c: string;
  /** Absent for composite objects, as on GCS. */
  readonly md5Hash?: string;
  /** For composite objects: how many uploaded objects they are made of. */
  readonly componentCount?: number;
  readonly contentType: string;
  readonly timeCreated: string;
  readonly updated: string;
}

/** The initiation body of a resumable upload: object metadata, plus optional name and hashes. */
export interface InitiationBody extends ObjectMetadata {
  readonly name?: string;
  readonly crc32c?: string;
  readonly md5Hash?: string;
}

const STRING_FIELDS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'contentLanguage',
  'cacheControl',
  'customTime',
] as const;

/** GCS limits custom metadata to 8 KiB in all. */
const MAX_CUSTOM_METADATA_BYTES = 8 * 1024;

const invalid = (message: string) => protocolError(400, 'invalid', message);

/**
 * Validates a JSON object resource sent by a client. Fields Spool does not keep (acl, kmsKeyName,
 * storageClass, …) are accepted and ignored, as an emulator should; wrong types are errors.
 */
export function parseInitiationBody(value: unknown): Result<InitiationBody> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(invalid('The request body must be a JSON object (the object resource).'));
  }
  const body = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of [...STRING_FIELDS, 'name', 'crc32c', 'md5Hash'] as const) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string')
      return fail(invalid(`Invalid value for ${field}: it must be a string.`));
    if (v.length > 4096)
      return fail(invalid(`Invalid value for ${field}: it is longer than 4096 characters.`));
    out[field] = v;
  }
  if (typeof out['name'] === 'string') {
    const problem = objectNameProblem(out['name']);
    if (problem) return fail(invalid(problem));
  }
  for (const [field, bytes] of [
    ['crc32c', 4],
    ['md5Hash', 16],
  ] as const) {
    const v = out[field];
    if (typeof v === 'string' && decodeBase64(v)?.length !== bytes) {
      return fail(invalid(`Invalid value for ${field}: it must be base64 of ${bytes} bytes.`));
    }
  }
  if (typeof out['customTime'] === 'string' && Number.isNaN(Date.parse(out['customTime']))) {
    return fail(invalid('Invalid value for customTime: it must be an RFC 3339 date-time.'));
  }
  const metadata = body['metadata'];
  if (metadata !== undefined && metadata !== null) {
    const parsed = parseCustomMetadata(metadata);
    if (!parsed.ok) return parsed;
    out['metadata'] = parsed.value;
  }
  return ok(out as InitiationBody);
}

function parseCustomMetadata(value: unknown): Result<Record<string, string>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(invalid('Invalid value for metadata: it must be an object of string values.'));
  }
  const entries: [string, string][] = [];
  let size = 0;
  for (const [key, v] of Object.entries(value)) {
    if (v === null) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      return fail(invalid(`Invalid value for metadata.${key.slice(0, 64)}: it must be a string.`));
    }
    entries.push([key, String(v)]);
    size += utf8Length(key) + utf8Length(String(v));
  }
  if (size > MAX_CUSTOM_METADATA_BYTES) {
    return fail(
      invalid(
        `Custom metadata is limited to ${MAX_CUSTOM_METADATA_BYTES} bytes; this has ${size}.`,
      ),
    );
  }
  // fromEntries defines own properties, so a key such as "__proto__" is kept rather than lost to a setter.
  return ok(Object.fromEntries(entries));
}

/** A PATCH of object metadata: fields to set, fields to clear, and custom metadata changes. */
export interface MetadataPatch {
  readonly set: ObjectMetadata;
  readonly clear: readonly (typeof STRING_FIELDS)[number][];
  /** null clears all custom metadata; a key with null removes that key. */
  readonly metadata?: Readonly<Record<string, string | null>> | null;
}

/** Validates a PATCH body; read-only fields (name, size, hashes…) are ignored, as GCS does. */
export function parseMetadataPatch(value: unknown): Result<MetadataPatch> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(
      invalid('The request body must be a JSON object of the metadata fields to change.'),
    );
  }
  const body = value as Record<string, unknown>;
  const withoutNulls = Object.fromEntries(
    Object.entries(body).filter(([k, v]) => v !== null && k !== 'metadata'),
  );
  const parsed = parseInitiationBody(withoutNulls);
  if (!parsed.ok) return parsed;
  const { name: _n, crc32c: _c, md5Hash: _m, ...set } = parsed.value;
  const clear = STRING_FIELDS.filter((field) => body[field] === null);
  const metadata = body['metadata'];
  if (metadata === undefined) return ok({ set, clear });
  if (metadata === null) return ok({ set, clear, metadata: null });
  const nulls =
    typeof metadata === 'object' && !Array.isArray(metadata)
      ? Object.keys(metadata).filter((k) => (metadata as Record<string, unknown>)[k] === null)
      : [];
  const values = parseCustomMetadata(metadata);
  if (!values.ok) return values;
  return ok({
    set,
    clear,
    metadata: { ...values.value, ...Object.fromEntries(nulls.map((k) => [k, null])) },
  });
}

/** Applies a PATCH to stored metadata. */
export function applyMetadataPatch<T extends ObjectMetadata>(current: T, patch: MetadataPatch): T {
  const next = { ...current, ...patch.set } as Record<string, unknown>;
  for (const field of patch.clear) delete next[field];
  if (patch.metadata === null) delete next['metadata'];
  else if (patch.metadata !== undefined) {
    const merged = new Map(Object.entries(current.metadata ?? {}));
    for (const [k, v] of Object.entries(patch.metadata)) {
      if (v === null) merged.delete(k);
      else merged.set(k, v);
    }
    next['metadata'] = merged.size > 0 ? Object.fromEntries(merged) : undefined;
  }
  return next as T;
}

/** Percent-encodes an object name for a URL path segment (slashes included, as GCS does). */
export function encodeObjectName(name: string): string {
  return encodeURIComponent(name);
}

/** The JSON API object resource, with 64-bit numbers as strings and absolute links. */
export function objectResource(object: StoredObject, baseUrl: string): Record<string, unknown> {
  const path = `b/${encodeURIComponent(object.bucket)}/o/${encodeObjectName(object.name)}`;
  return {
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${baseUrl}/storage/v1/${path}`,
    mediaLink: `${baseUrl}/download/storage/v1/${path}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation,
    metageneration: object.metageneration,
    contentType: object.contentType,
    storageClass: 'STANDARD',
    size: String(object.size),
    ...(object.md5Hash !== undefined && { md5Hash: object.md5Hash }),
    crc32c: object.crc32c,
    ...(object.componentCount !== undefined && { componentCount: object.componentCount }),
    etag: objectEtag(object),
    timeCreated: object.timeCreated,
    updated: object.updated,
    timeStorageClassUpdated: object.timeCreated,
    timeFinalized: object.timeCreated,
    ...(object.contentEncoding !== undefined && { contentEncoding: object.contentEncoding }),
    ...(object.contentDisposition !== undefined && {
      contentDisposition: object.contentDisposition,
    }),
    ...(object.contentLanguage !== undefined && { contentLanguage: object.contentLanguage }),
    ...(object.cacheControl !== undefined && { cacheControl: object.cacheControl }),
    ...(object.customTime !== undefined && { customTime: object.customTime }),
    ...(object.metadata !== undefined &&
      Object.keys(object.metadata).length > 0 && { metadata: object.metadata }),
  };
}

/** An entity tag that changes whenever the generation or metageneration does. */
export function objectEtag(object: Pick<StoredObject, 'generation' | 'metageneration'>): string {
  return `"${object.generation}.${object.metageneration}"`;
}
