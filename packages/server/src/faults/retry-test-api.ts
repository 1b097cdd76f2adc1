import { protocolError } from '@spool/core';
import { readSmallBody } from '../http/body.js';
import type { Context } from '../http/context.js';
import { HttpError, badRequest } from '../http/errors.js';
import { sendJson, sendText } from '../http/respond.js';
import { retryTestNotFound, type RetryTests } from './registry.js';

/** A retry test's instructions fit in a few hundred bytes; this leaves room for many. */
const MAX_BODY = 64 * 1024;

const methodNotAllowed = (ctx: Context, allowed: string) =>
  new HttpError(
    protocolError(
      405,
      'methodNotAllowed',
      `${ctx.method} is not allowed on ${ctx.path}; use ${allowed}.`,
    ),
  );

/**
 * storage-testbench's Retry Test API: `POST /retry_test`, `GET|DELETE /retry_test/{id}`,
 * `GET /retry_tests`. Returns false for any other path.
 */
export async function serveRetryTestApi(tests: RetryTests, ctx: Context): Promise<boolean> {
  if (ctx.path === '/retry_tests') {
    if (ctx.method !== 'GET') throw methodNotAllowed(ctx, 'GET');
    sendJson(ctx, 200, { retry_test: tests.list() });
    return true;
  }
  if (ctx.path === '/retry_test') {
    if (ctx.method !== 'POST') throw methodNotAllowed(ctx, 'POST');
    const created = tests.create(await readJson(ctx));
    if (!created.ok) throw new HttpError(created.error);
    sendJson(ctx, 200, created.value);
    return true;
  }
  if (!ctx.path.startsWith('/retry_test/')) return false;
  const id = ctx.path.slice('/retry_test/'.length);
  const notFound = () => new HttpError(retryTestNotFound(id));
  if (ctx.method === 'GET') {
    const test = tests.get(id);
    if (!test) throw notFound();
    sendJson(ctx, 200, test);
  } else if (ctx.method === 'DELETE') {
    if (!tests.delete(id)) throw notFound();
    sendText(ctx, 200, `Deleted retry test ${id}\n`);
  } else {
    throw methodNotAllowed(ctx, 'GET or DELETE');
  }
  return true;
}

async function readJson(ctx: Context): Promise<unknown> {
  const raw = await readSmallBody(ctx.req, MAX_BODY);
  if (raw === 'too-large')
    throw badRequest(`A retry test is limited to ${MAX_BODY} bytes of JSON.`);
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw badRequest(
      'The body of POST /retry_test must be JSON: {"instructions": {"<method>": ["<instruction>", …]}}.',
      'parseError',
    );
  }
}
