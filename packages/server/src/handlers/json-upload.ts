import {
  incompleteResponse,
  parsePreconditions,
  protocolError,
  type ChunkRequest,
  type InitiationBody,
} from '@spool/core';
import { header, type Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import { sendEmpty, sendError } from '../http/respond.js';
import { redactSessionId } from '../ids.js';
import type { Services } from '../services.js';
import { openSession } from '../upload/sessions.js';
import {
  cancelSession,
  chunkRequestOf,
  runChunk,
  withSession,
  type ChunkOutcome,
} from '../upload/session-chunk.js';
import { requireBucket, sendCompleted } from './common.js';
import { parseSizeHeader, readInitiationBody, resolveObjectName } from './initiation.js';

/** The command protocol gcloud, Ruby and Firebase clients use (X-Goog-Upload-Protocol: resumable). */
const COMMAND_GRANULARITY = '262144';

function commandOf(ctx: Context): string | undefined {
  return header(ctx, 'x-goog-upload-command')?.toLowerCase().replace(/\s+/g, '');
}

/**
 * `POST /upload/storage/v1/b/{bucket}/o?uploadType=resumable`, or with `X-Goog-Upload-Command:
 * start`: starts a session. The session URI repeats the request's query and adds upload_id.
 */
export async function initiateJsonSession(
  app: Services,
  ctx: Context,
  bucket: string,
): Promise<void> {
  const commands = commandOf(ctx) !== undefined;
  await requireBucket(app, bucket);
  const body: InitiationBody = await readInitiationBody(ctx);
  const name = resolveObjectName(ctx.query.get('name'), body.name);
  const declaredSize = commands
    ? parseSizeHeader(
        'X-Goog-Upload-Header-Content-Length',
        header(ctx, 'x-goog-upload-header-content-length'),
      )
    : parseSizeHeader('X-Upload-Content-Length', header(ctx, 'x-upload-content-length'));
  const preconditions = parsePreconditions((n) => ctx.query.get(n));
  if (!preconditions.ok) throw new HttpError(preconditions.error);
  const contentType =
    body.contentType ??
    header(ctx, commands ? 'x-goog-upload-header-content-type' : 'x-upload-content-type');
  const { name: _name, crc32c, md5Hash, ...metadata } = body;
  const session = await openSession(app, ctx, {
    api: 'json',
    bucket,
    name,
    metadata: { ...metadata, ...(contentType ? { contentType } : {}) },
    declaredHashes: {
      ...(crc32c !== undefined && { crc32c }),
      ...(md5Hash !== undefined && { md5Hash }),
    },
    preconditions: preconditions.value,
    declaredSize,
    origin: header(ctx, 'origin'),
  });
  ctx.logFields['session'] = redactSessionId(session.id);
  const query = ctx.query.raw
    .split('&')
    .filter((p) => p !== '' && !p.startsWith('upload_id='))
    .join('&');
  const uri = `${ctx.baseUrl}${ctx.path}?${query}${query ? '&' : ''}upload_id=${session.id}`;
  if (commands) {
    return sendEmpty(ctx, 200, {
      'x-goog-upload-status': 'active',
      'x-goog-upload-url': uri,
      'x-goog-upload-chunk-granularity': COMMAND_GRANULARITY,
      'x-guploader-uploadid': session.id,
    });
  }
  sendEmpty(ctx, 200, { location: uri, 'x-guploader-uploadid': session.id });
}

/** `PUT|POST|DELETE` on a JSON API session URI. */
export async function jsonSessionRequest(
  app: Services,
  ctx: Context,
  bucket: string,
): Promise<void> {
  const id = ctx.query.get('upload_id') ?? '';
  const command = commandOf(ctx);
  if (command !== undefined) return commandRequest(app, ctx, bucket, id, command);
  await withSession(app, ctx, id, { bucket }, async (session, superseded) => {
    if (ctx.method === 'DELETE') {
      const cancelled = await cancelSession(app, session);
      return cancelled === 'cancelled' ? sendEmpty(ctx, 499) : renderJson(ctx, cancelled, false);
    }
    const no308 = header(ctx, 'x-guploader-no-308')?.toLowerCase() === 'yes';
    if (no308) ctx.logFields['no308'] = true;
    await renderJson(
      ctx,
      await runChunk(app, ctx, session, chunkRequestOf(ctx), superseded),
      no308,
    );
  });
}

async function renderJson(ctx: Context, outcome: ChunkOutcome, no308: boolean): Promise<void> {
  switch (outcome.kind) {
    case 'incomplete': {
      const r = incompleteResponse(outcome.persisted, no308);
      return sendEmpty(ctx, r.status, r.headers);
    }
    case 'complete':
      return sendCompleted(ctx, outcome.object);
    case 'error':
      return sendError(ctx, outcome.error);
  }
}

// The command protocol: every request is a POST naming a command; status is reported in
// X-Goog-Upload-* headers with a 200, never a 308. Commands map onto the same decision table:
// `upload` at offset o is `bytes o-.../*`, `upload, finalize` also gives the total, `finalize` is
// `bytes */N` and `query` is `bytes */*`.
async function commandRequest(
  app: Services,
  ctx: Context,
  bucket: string,
  id: string,
  command: string,
): Promise<void> {
  await withSession(app, ctx, id, { bucket }, async (session, superseded) => {
    const status = (value: string, received: number) => ({
      'x-goog-upload-status': value,
      'x-goog-upload-size-received': String(received),
    });
    if (command === 'cancel') {
      const cancelled = await cancelSession(app, session);
      if (cancelled !== 'cancelled') return renderCommand(ctx, cancelled, status);
      return sendEmpty(ctx, 200, status('cancelled', session.persisted));
    }
    if (command === 'query' && session.status === 'cancelled')
      return sendEmpty(ctx, 200, status('cancelled', session.persisted));
    const request = commandToChunk(ctx, command, session.persisted);
    await renderCommand(ctx, await runChunk(app, ctx, session, request, superseded), status);
  });
}

function commandToChunk(ctx: Context, command: string, persisted: number): ChunkRequest {
  const lengthHeader = header(ctx, 'content-length');
  const length = lengthHeader === undefined ? undefined : Number(lengthHeader);
  const offsetHeader = header(ctx, 'x-goog-upload-offset');
  const offset =
    offsetHeader === undefined ? undefined : parseSizeHeader('X-Goog-Upload-Offset', offsetHeader);
  switch (command) {
    case 'query':
      return { contentRange: 'bytes */*', contentLength: 0 };
    case 'finalize':
      if (length !== undefined && length > 0)
        throw badRequest('A finalize command has no body; use "upload, finalize" to send data.');
      return { contentRange: `bytes */${offset ?? persisted}`, contentLength: 0 };
    case 'upload':
    case 'upload,finalize': {
      if (offset === undefined)
        throw badRequest(`The "${command}" command needs X-Goog-Upload-Offset.`);
      const final = command === 'upload,finalize';
      if (length === undefined) {
        if (!final)
          throw badRequest(
            'An upload command needs a Content-Length (chunked bodies must also finalize).',
          );
        return { contentRange: `bytes ${offset}-*/*`, contentLength: undefined };
      }
      if (length === 0)
        return { contentRange: final ? `bytes */${offset}` : 'bytes */*', contentLength: 0 };
      return {
        contentRange: `bytes ${offset}-${offset + length - 1}/${final ? offset + length : '*'}`,
        contentLength: length,
      };
    }
    default:
      throw badRequest(
        `Unknown X-Goog-Upload-Command "${command.slice(0, 40)}": use start, query, upload, finalize, "upload, finalize" or cancel.`,
      );
  }
}

async function renderCommand(
  ctx: Context,
  outcome: ChunkOutcome,
  status: (value: string, received: number) => Record<string, string>,
): Promise<void> {
  switch (outcome.kind) {
    case 'incomplete':
      return sendEmpty(ctx, 200, status('active', outcome.persisted));
    case 'complete':
      return sendCompleted(ctx, outcome.object, status('final', outcome.object.size));
    case 'error':
      return sendError(ctx, outcome.error, {
        'x-goog-upload-status': outcome.error.status === 503 ? 'active' : 'final',
      });
  }
}

export const unsupportedUploadType = (type: string | undefined): HttpError =>
  new HttpError(
    protocolError(
      400,
      'invalid',
      `Unsupported uploadType "${(type ?? '').slice(0, 40)}": use resumable, multipart or media.`,
    ),
  );
