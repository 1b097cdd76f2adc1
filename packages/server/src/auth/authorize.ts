import { protocolError } from '@spool/core';
import type { Context } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import type { Route } from '../http/routes.js';
import type { Services } from '../services.js';
import { authenticate, mayUseBucket } from './tokens.js';

const unauthorized = (message: string, reason = 'authError') =>
  new HttpError(protocolError(401, reason, message, 'json', 'AuthenticationRequired'));

/** Routes anyone may call: liveness and readiness. */
const OPEN_ROUTES = new Set<Route['name']>(['healthz', 'readyz']);

/**
 * Decides whether a request may proceed, and with which token (set on `ctx.principal`).
 * Without a token file everything is open, as in an emulator. With one:
 * - a request to a session URI needs nothing more: the session ID is the credential, as on GCS;
 * - a request carrying a verified V4 signed URL needs nothing more: the signature is its permission;
 * - anything else needs `Authorization: Bearer TOKEN` (or `?access_token=TOKEN`) for a token that
 *   may use the bucket.
 */
export function authorize(
  app: Services,
  ctx: Context,
  route: Route,
  signedUrlVerified: boolean,
): void {
  if (!app.tokens || OPEN_ROUTES.has(route.name) || signedUrlVerified) return;
  if (ctx.query.has('upload_id') && (route.name === 'upload' || route.name === 'xml-object'))
    return;
  const result = authenticate(app.tokens, credentials(ctx), app.now());
  switch (result.kind) {
    case 'none':
      ctx.res.setHeader('www-authenticate', 'Bearer realm="spool"');
      throw unauthorized(
        'This server requires a bearer token: send Authorization: Bearer TOKEN, with a token from the operator (spool serve --token-file).',
        'required',
      );
    case 'malformed':
      throw unauthorized('The Authorization header must read "Bearer TOKEN".');
    case 'unknown':
      throw unauthorized('Invalid Credentials: this bearer token is not one the server accepts.');
    case 'expired':
      throw unauthorized(
        `The bearer token expired at ${new Date(result.grant.expiresAt!).toISOString()}; ask the operator for a new one.`,
      );
    case 'granted':
      break;
  }
  const grant = result.grant;
  ctx.principal = grant;
  ctx.logFields['token'] = grant.id;
  if (route.name === 'metrics' && grant.buckets !== 'all') {
    throw new HttpError(
      protocolError(
        403,
        'forbidden',
        'Metrics need a token that may use every bucket.',
        'json',
        'AccessDenied',
      ),
    );
  }
  if ('bucket' in route && !mayUseBucket(grant, route.bucket)) {
    throw new HttpError(
      protocolError(
        403,
        'forbidden',
        `This token may not use bucket "${route.bucket.slice(0, 222)}".`,
        'json',
        'AccessDenied',
      ),
    );
  }
}

/**
 * The Authorization header, or else the access_token query parameter, which Google's APIs accept
 * too: a download link cannot carry a header. (Logs show paths without their query.)
 */
function credentials(ctx: Context): string | undefined {
  const header = ctx.req.headers.authorization;
  if (header !== undefined) return header;
  const token = ctx.query.get('access_token');
  return token === undefined ? undefined : `Bearer ${token}`;
}
