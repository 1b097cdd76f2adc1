import type { ProtocolError } from '@spool/core';
import type { SignatureProblem } from '../auth/v4-signature.js';
import type { Context } from './context.js';
import { sendError } from './respond.js';

/** XML API codes by status, for errors without a specific one. */
const CODES: Record<number, string> = {
  400: 'InvalidArgument',
  401: 'AuthenticationRequired',
  403: 'AccessDenied',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'PreconditionFailed',
  416: 'InvalidRange',
  429: 'SlowDown',
};

/** The fixed messages GCS gives with some codes; Spool's own explanation goes in Details. */
const MESSAGES: Record<string, string> = {
  NoSuchKey: 'The specified key does not exist.',
  NoSuchBucket: 'The specified bucket does not exist.',
  NoSuchUpload: 'The requested upload was not found.',
  InvalidRange: 'The requested range cannot be satisfied.',
};

const escape = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

function xmlDocument(fields: Record<string, string | undefined>): string {
  const inner = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${escape(v!)}</${k}>`)
    .join('');
  return `<?xml version='1.0' encoding='UTF-8'?><Error>${inner}</Error>`;
}

function sendXml(ctx: Context, status: number, body: string): void {
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  if (!ctx.req.complete) ctx.res.setHeader('connection', 'close');
  ctx.res.statusCode = status;
  ctx.res.setHeader('content-type', 'application/xml; charset=UTF-8');
  ctx.res.setHeader('content-length', Buffer.byteLength(body));
  ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
}

/**
 * Answers an XML API request with an error in the XML API's shape. Errors of the upload protocol
 * itself (plain text on GCS, whichever API started the session) stay plain text.
 */
export function sendXmlError(ctx: Context, error: ProtocolError): void {
  if (error.format === 'text') return sendError(ctx, error);
  ctx.logFields['error'] = error.reason;
  const code = error.xmlCode ?? CODES[error.status] ?? 'InternalError';
  const message = MESSAGES[code];
  sendXml(
    ctx,
    error.status,
    xmlDocument({
      Code: code,
      Message: message ?? error.message,
      Details: message ? error.message : undefined,
    }),
  );
}

export function sendSignatureProblem(ctx: Context, problem: SignatureProblem): void {
  ctx.logFields['error'] = problem.code;
  sendXml(
    ctx,
    problem.status,
    xmlDocument({
      Code: problem.code,
      Message: problem.message,
      Details: problem.details,
      StringToSign: problem.stringToSign,
      CanonicalRequest: problem.canonicalRequest,
    }),
  );
}
