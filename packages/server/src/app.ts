import type { IncomingMessage, ServerResponse } from 'node:http';
import { objectEtag, protocolError, uniqueNames, type ProtocolError } from '@spool/core';
import { useNativeCrc32c } from '@spool/core/native';
import type { FaultInjector } from './faults/injector.js';
import { noFaults } from './faults/request-faults.js';
import { deleteBucket, getBucket, insertBucket, listBuckets } from './handlers/buckets.js';
import {
  initiateJsonSession,
  jsonSessionRequest,
  unsupportedUploadType,
} from './handlers/json-upload.js';
import { requireBucket } from './handlers/common.js';
import { composeObject, patchObject } from './handlers/object-updates.js';
import {
  deleteObject,
  downloadObject,
  getObject,
  listObjects,
  queryPreconditions,
} from './handlers/objects.js';
import { mediaUpload, multipartUpload } from './handlers/simple-upload.js';
import { xmlEtag, xmlPutObject, xmlSessionRequest, xmlStartResumable } from './handlers/xml.js';
import { authorize } from './auth/authorize.js';
import { hostCandidates, verifySignedUrl, type SignatureProblem } from './auth/v4-signature.js';
import { allowedOrigin, corsHeaders, preflightHeaders } from './http/cors.js';
import { isSessionIdShape } from './ids.js';
import { readinessProblems } from './ops/readiness.js';
import { sendSignatureProblem, sendXmlError } from './http/xml-error.js';
import { header, type Context } from './http/context.js';
import { HttpError, environmentError } from './http/errors.js';
import { Query, decodePath } from './http/query.js';
import { sendEmpty, sendError, sendText } from './http/respond.js';
import { matchRoute, type Route } from './http/routes.js';
import { serveUploadPage, type UploadPage } from './http/upload-page.js';
import type { Services } from './services.js';

const notFound = (ctx: Context): ProtocolError =>
  protocolError(
    404,
    'notFound',
    `Spool does not serve ${ctx.method} ${ctx.path.slice(0, 200)}. The README lists the API it answers.`,
  );

const methodNotAllowed = (ctx: Context, allowed: string): HttpError =>
  new HttpError(
    protocolError(
      405,
      'methodNotAllowed',
      `${ctx.method} is not allowed on ${ctx.path.slice(0, 200)}; use ${allowed}.`,
    ),
  );

/** Request IDs, for logs and fault injection: unique, not secret. */
const newRequestId = uniqueNames();

export interface HandlerOptions {
  /** Base URL clients reach the server at, for absolute links (behind a proxy). */
  readonly publicUrl?: string | undefined;
  /** Scheme used to build links from the Host header when there is no public URL. */
  readonly scheme: 'http' | 'https';
  /** Fault injection (`--fault-injection`); without it, its headers and paths mean nothing. */
  readonly faultInjection?: FaultInjector | undefined;
  /** The upload page served at `/` (see http/upload-page.ts); a 404 saying how to build it if absent. */
  readonly uploadPage?: UploadPage | undefined;
}

/** The `(req, res)` handler serving the GCS API from `services`; mountable in any Node HTTP server. */
export function createHandler(
  services: Services,
  options: HandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  // The hot path hashes every byte: use the native CRC32C (a tenth of the portable one's cost).
  useNativeCrc32c();
  return (req, res) => {
    // Errors of an aborted connection are handled where the body is read; never let them crash.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    void serve(services, options, req, res);
  };
}

async function serve(
  services: Services,
  options: HandlerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = performance.now();
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const ctx: Context = {
    req,
    res,
    method: req.method ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    query: new Query(''),
    baseUrl: baseUrlOf(req, options),
    requestId: newRequestId(),
    logFields: {},
    faults: noFaults,
  };
  let xml = false;
  let routeName = 'unknown';
  try {
    (ctx as { query: Query }).query = new Query(q < 0 ? '' : url.slice(q + 1));
    const route = matchRoute(ctx.path, decodePath);
    if (await options.faultInjection?.serveApi(ctx)) return;
    xml = route?.name === 'xml-object' || route?.name === 'xml-bucket';
    if (options.faultInjection?.intercept(ctx, route)) return;
    if (!route) throw new HttpError(notFound(ctx));
    routeName = route.name;
    // Static and open to all: no session, token or CORS policy applies.
    if (route.name === 'page') return serveUploadPage(ctx, options.uploadPage, route.file);
    const origin = await corsOrigin(services, ctx, route);
    if (ctx.method === 'OPTIONS') return answerPreflight(ctx, origin);
    if (origin) for (const [k, v] of Object.entries(corsHeaders(origin))) res.setHeader(k, v);
    const signed = checkSignedUrl(services, options, ctx, route);
    if (signed !== 'none' && signed !== 'valid') return sendSignatureProblem(ctx, signed);
    authorize(services, ctx, route, signed === 'valid');
    if (route.name === 'xml-object' || route.name === 'xml-bucket')
      await dispatchXml(services, ctx, route);
    else await dispatch(services, ctx, route);
  } catch (error) {
    const send = xml ? sendXmlError : sendError;
    if (error instanceof HttpError) send(ctx, error.error);
    else {
      const known = environmentError(error);
      if (known) {
        services.log.warn('storage unavailable', {
          id: ctx.requestId,
          code: (error as NodeJS.ErrnoException).code,
        });
        sendError(ctx, known);
      } else {
        services.log.error('request failed', {
          id: ctx.requestId,
          error: String((error as Error)?.stack ?? error),
        });
        sendError(
          ctx,
          protocolError(500, 'internalError', 'Internal error; the server log has the details.'),
        );
      }
    }
  } finally {
    const seconds = (performance.now() - started) / 1000;
    const status = String(res.statusCode);
    services.metrics.requests.inc({ method: ctx.method, route: routeName, status });
    services.metrics.requestSeconds.observe(seconds, { route: routeName });
    if (res.statusCode >= 400)
      services.metrics.errors.inc({
        status,
        reason: typeof ctx.logFields['error'] === 'string' ? ctx.logFields['error'] : '',
      });
    services.log.info('request', {
      id: ctx.requestId,
      method: ctx.method,
      path: ctx.path.slice(0, 300),
      status: res.statusCode,
      ms: Math.round(performance.now() - started),
      ...ctx.logFields,
    });
  }
}

async function dispatch(app: Services, ctx: Context, route: Route): Promise<void> {
  const m = ctx.method;
  switch (route.name) {
    case 'healthz':
      return sendText(ctx, 200, 'ok\n');
    case 'readyz': {
      const problems = await readinessProblems(app);
      return sendText(
        ctx,
        problems.length === 0 ? 200 : 503,
        problems.length === 0 ? 'ready\n' : `not ready: ${problems.join('; ')}\n`,
      );
    }
    case 'metrics':
      return sendText(ctx, 200, await app.metrics.registry.render(), {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      });
    case 'upload':
      if (ctx.query.has('upload_id')) {
        if (m === 'PUT' || m === 'POST' || m === 'DELETE')
          return jsonSessionRequest(app, ctx, route.bucket);
        throw methodNotAllowed(ctx, 'PUT, POST or DELETE');
      }
      if (m !== 'POST') throw methodNotAllowed(ctx, 'POST');
      return startUpload(app, ctx, route.bucket);
    case 'buckets':
      if (m === 'GET') return listBuckets(app, ctx);
      if (m === 'POST') return insertBucket(app, ctx);
      throw methodNotAllowed(ctx, 'GET or POST');
    case 'bucket':
      if (m === 'GET') return getBucket(app, ctx, route.bucket);
      if (m === 'DELETE') return deleteBucket(app, ctx, route.bucket);
      throw methodNotAllowed(ctx, 'GET or DELETE');
    case 'objects':
      if (m === 'GET') return listObjects(app, ctx, route.bucket);
      throw methodNotAllowed(ctx, 'GET');
    case 'object':
      if (m === 'POST' && route.composeTarget !== undefined)
        return composeObject(app, ctx, route.bucket, route.composeTarget);
      if (m === 'GET' || m === 'HEAD') return getObject(app, ctx, route.bucket, route.object);
      if (m === 'PATCH') return patchObject(app, ctx, route.bucket, route.object);
      if (m === 'DELETE')
        return deleteObject(app, ctx, route.bucket, route.object, queryPreconditions(ctx));
      throw methodNotAllowed(ctx, 'GET, PATCH or DELETE');
    case 'download':
      if (m === 'GET' || m === 'HEAD') {
        return downloadObject(app, ctx, route.bucket, route.object, {
          preconditions: queryPreconditions(ctx),
          etag: objectEtag,
        });
      }
      throw methodNotAllowed(ctx, 'GET');
    case 'xml-bucket':
    case 'xml-object':
      throw new Error('unreachable: XML routes are dispatched by dispatchXml');
    case 'page':
      throw new Error('unreachable: the upload page is served before dispatch');
  }
}

function startUpload(app: Services, ctx: Context, bucket: string): Promise<void> {
  if (ctx.req.headers['x-goog-upload-protocol']?.toString().toLowerCase() === 'resumable') {
    return initiateJsonSession(app, ctx, bucket);
  }
  const type = ctx.query.get('uploadType');
  ctx.logFields['upload'] = type;
  if (type === 'resumable') return initiateJsonSession(app, ctx, bucket);
  if (type === 'media') return mediaUpload(app, ctx, bucket);
  if (type === 'multipart') return multipartUpload(app, ctx, bucket);
  throw unsupportedUploadType(type);
}

/** The XML API (its signed URLs were checked before dispatch). */
async function dispatchXml(
  app: Services,
  ctx: Context,
  route: Extract<Route, { name: 'xml-bucket' | 'xml-object' }>,
): Promise<void> {
  const session = ctx.query.has('upload_id');
  const m = ctx.method;
  if (route.name === 'xml-bucket') {
    await requireBucket(app, route.bucket);
    throw new HttpError(
      protocolError(
        400,
        'invalid',
        `Spool lists objects through the JSON API: GET /storage/v1/b/${route.bucket}/o.`,
      ),
    );
  }
  const { bucket, object } = route;
  if (session && (m === 'PUT' || m === 'POST' || m === 'DELETE'))
    return xmlSessionRequest(app, ctx, bucket, object);
  switch (m) {
    case 'POST':
      return xmlStartResumable(app, ctx, bucket, object);
    case 'PUT':
      return xmlPutObject(app, ctx, bucket, object);
    case 'GET':
    case 'HEAD':
      return downloadObject(app, ctx, bucket, object, {
        preconditions: xmlReadPreconditions(ctx),
        etag: xmlEtag,
      });
    case 'DELETE':
      return deleteObject(app, ctx, bucket, object, xmlReadPreconditions(ctx));
    default:
      throw methodNotAllowed(ctx, 'GET, HEAD, PUT, POST or DELETE');
  }
}

/** x-goog-if-generation-match on reads and deletes of the XML API. */
function xmlReadPreconditions(ctx: Context) {
  const value = ctx.req.headers['x-goog-if-generation-match'];
  if (value === undefined) return {};
  const text = String(value).trim();
  if (!/^\d{1,19}$/.test(text))
    throw new HttpError(
      protocolError(400, 'invalid', `Invalid x-goog-if-generation-match: "${text.slice(0, 40)}".`),
    );
  return { ifGenerationMatch: String(BigInt(text)) };
}

function baseUrlOf(req: IncomingMessage, options: HandlerOptions): string {
  if (options.publicUrl) return options.publicUrl;
  const host = req.headers.host;
  // The Host header ends up in links we hand out: accept only a plain host[:port].
  if (host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host))
    return `${options.scheme}://${host}`;
  const address = req.socket.localAddress ?? '127.0.0.1';
  const shown = address.includes(':') ? `[${address}]` : address;
  return `${options.scheme}://${shown}:${req.socket.localPort ?? 80}`;
}

/**
 * A V4 signed URL is verified whenever one is presented on the XML API. Session URIs are
 * capabilities and need none: a signed POST that started a session cannot cover its PUTs.
 */
function checkSignedUrl(
  app: Services,
  options: HandlerOptions,
  ctx: Context,
  route: Route,
): 'none' | 'valid' | SignatureProblem {
  if (route.name !== 'xml-object' && route.name !== 'xml-bucket') return 'none';
  if (ctx.query.has('upload_id')) return 'none';
  if (!ctx.query.has('X-Goog-Signature') && !ctx.query.has('X-Goog-Algorithm')) return 'none';
  const problem = verifySignedUrl(
    {
      method: ctx.method,
      path: ctx.path,
      rawQuery: ctx.query.raw,
      headers: ctx.req.headers,
      hosts: hostCandidates(ctx.req.headers.host, options.publicUrl),
      now: app.now(),
    },
    app.signatureKeys,
  );
  return problem ?? 'valid';
}

/**
 * The origin a browser request may be answered for: the one a session was started with, for
 * requests to that session, or one the operator allowed (--cors-origin).
 */
async function corsOrigin(app: Services, ctx: Context, route: Route): Promise<string | undefined> {
  const origin = header(ctx, 'origin');
  if (origin === undefined) return undefined;
  const id = ctx.query.get('upload_id');
  const sessionRoute =
    id !== undefined &&
    isSessionIdShape(id) &&
    (route.name === 'upload' || route.name === 'xml-object');
  const session = sessionRoute ? await app.metadata.getSession(id) : undefined;
  return allowedOrigin(app.cors, origin, session?.origin);
}

function answerPreflight(ctx: Context, origin: string | undefined): void {
  if (origin === undefined) {
    if (header(ctx, 'origin') === undefined)
      return sendEmpty(ctx, 204, { allow: 'GET, HEAD, PUT, POST, PATCH, DELETE, OPTIONS' });
    throw new HttpError(
      protocolError(
        403,
        'forbidden',
        `Origin ${header(ctx, 'origin')!.slice(0, 200)} may not use this server: allow it with --cors-origin, or start the session with this Origin.`,
        'json',
        'AccessDenied',
      ),
    );
  }
  sendEmpty(ctx, 204, preflightHeaders(origin, header(ctx, 'access-control-request-headers')));
}
