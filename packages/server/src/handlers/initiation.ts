import { MAX_OBJECT_SIZE, parseInitiationBody, tooLarge, type InitiationBody } from '@spool/core';
import { readSmallBody } from '../http/body.js';
import { header, type Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import { requireObjectName } from './common.js';

/** Initiation bodies and metadata parts are object metadata: small. */
export const MAX_METADATA_BODY = 64 * 1024;

/** The JSON object resource a client sends to start an upload; empty means none. */
export function parseMetadataJson(raw: Buffer): InitiationBody {
  if (raw.length === 0) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw badRequest(
      `Parse Error: the metadata is not valid JSON (${(error as Error).message.slice(0, 100)}).`,
      'parseError',
    );
  }
  const parsed = parseInitiationBody(json);
  if (!parsed.ok) throw new HttpError(parsed.error);
  return parsed.value;
}

/** Reads the JSON metadata body of a resumable initiation. */
export async function readInitiationBody(ctx: Context): Promise<InitiationBody> {
  const raw = await readSmallBody(ctx.req, MAX_METADATA_BODY);
  if (raw === 'too-large') {
    throw badRequest(
      `The initiation body (object metadata) is limited to ${MAX_METADATA_BODY} bytes.`,
    );
  }
  const type = header(ctx, 'content-type') ?? '';
  if (raw.length > 0 && type !== '' && !/^application\/json\b/i.test(type)) {
    throw badRequest(
      `The body of a resumable upload initiation is the object's JSON metadata, sent as application/json; this one is ${type.slice(0, 60)}. Send the data to the session URI afterwards.`,
    );
  }
  return parseMetadataJson(raw);
}

/** The object name from the query or the body; both given must agree. */
export function resolveObjectName(
  fromQuery: string | undefined,
  fromBody: string | undefined,
): string {
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    throw badRequest(
      `Value '${fromBody.slice(0, 200)}' in content does not agree with value '${fromQuery.slice(0, 200)}'.`,
    );
  }
  const name = fromQuery ?? fromBody;
  if (name === undefined) {
    throw badRequest(
      'No object name: give it in the "name" query parameter or in the JSON body.',
      'required',
    );
  }
  return requireObjectName(name);
}

/** A byte count from a header (X-Upload-Content-Length and its kin). */
export function parseSizeHeader(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw badRequest(
      `Invalid ${name} "${value.slice(0, 40)}": it must be the upload's size in bytes.`,
    );
  }
  const size = Number(value.trim());
  if (size > MAX_OBJECT_SIZE) throw new HttpError(tooLarge(size));
  return size;
}
