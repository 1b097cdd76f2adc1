import { errorEnvelope, type ProtocolError } from '@spool/core';
import type { Context } from './context.js';

type Headers = Record<string, string | string[] | number>;

/** Reason phrases GCS uses where Node's defaults differ or are missing. */
const REASON_PHRASES: Record<number, string> = {
  308: 'Resume Incomplete',
  499: 'Client Closed Request',
};

function prepare(ctx: Context, status: number, headers: Headers): void {
  // An unread request body (an early error, a superseded write) is not worth draining: close the
  // connection after answering instead.
  if (!ctx.req.complete) ctx.res.setHeader('connection', 'close');
  ctx.res.statusCode = status;
  const phrase = REASON_PHRASES[status];
  if (phrase) ctx.res.statusMessage = phrase;
  for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value);
}

export function sendJson(ctx: Context, status: number, body: unknown, headers: Headers = {}): void {
  const text = JSON.stringify(body);
  prepare(ctx, status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  ctx.res.setHeader('content-length', Buffer.byteLength(text));
  ctx.res.end(ctx.method === 'HEAD' ? undefined : text);
}

export function sendEmpty(ctx: Context, status: number, headers: Headers = {}): void {
  prepare(ctx, status, { 'content-length': 0, ...headers });
  ctx.res.end();
}

export function sendText(ctx: Context, status: number, text: string, headers: Headers = {}): void {
  prepare(ctx, status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  ctx.res.setHeader('content-length', Buffer.byteLength(text));
  ctx.res.end(ctx.method === 'HEAD' ? undefined : text);
}

/** Answers with a protocol error in the shape GCS uses for it: plain text or the JSON envelope. */
export function sendError(ctx: Context, error: ProtocolError, headers: Headers = {}): void {
  ctx.logFields['error'] = error.reason;
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  if (error.format === 'text') sendText(ctx, error.status, error.message, headers);
  else sendJson(ctx, error.status, errorEnvelope(error), headers);
}
