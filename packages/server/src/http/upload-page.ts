import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protocolError } from '@spool/core';
import { header, type Context } from './context.js';
import { HttpError } from './errors.js';

// The upload page (packages/upload-page): `/` and its files under `/_spool/`, read once at start
// (a few dozen KiB). Open to anyone, like a login page: it holds no data, and everything it does
// goes through the API with whatever access the person gives it.

interface PageFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

export interface UploadPage {
  readonly files: ReadonlyMap<string, PageFile>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The page may talk to any server a signed URL or session URI points at, and to nothing else of
 * the outside world: no script, style or frame from anywhere but here.
 */
const PAGE_POLICY =
  "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Where `npm run build` puts the page, or undefined when that package is not there. */
export function builtPageDir(): string | undefined {
  try {
    return dirname(fileURLToPath(import.meta.resolve('@spool/upload-page/assets/index.html')));
  } catch {
    return undefined;
  }
}

/** Reads the page's files; undefined when they have not been built. */
export async function loadUploadPage(dir: string | undefined): Promise<UploadPage | undefined> {
  if (dir === undefined) return undefined;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const files = new Map<string, PageFile>();
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type === undefined) continue;
    const body = await readFile(join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(name, { body, type, etag });
  }
  return files.has('index.html') ? { files } : undefined;
}

export function serveUploadPage(ctx: Context, page: UploadPage | undefined, name: string): void {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    throw new HttpError(
      protocolError(
        405,
        'methodNotAllowed',
        `${ctx.method} is not allowed on the upload page; use GET.`,
      ),
    );
  }
  if (!page) {
    throw new HttpError(
      protocolError(
        404,
        'notFound',
        'The upload page is not built: run npm run build (npm ci does) in the Spool repository.',
      ),
    );
  }
  const file = page.files.get(name);
  if (!file) {
    throw new HttpError(
      protocolError(404, 'notFound', `The upload page has no file named ${name.slice(0, 100)}.`),
    );
  }
  const headers: Record<string, string | number> = {
    'content-type': file.type,
    etag: file.etag,
    // Always asked again, cheaply (304): a new version of Spool shows its new page at once.
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...(name === 'index.html'
      ? { 'content-security-policy': PAGE_POLICY, 'referrer-policy': 'no-referrer' }
      : // Pages elsewhere may import the client bundle (a module script needs CORS for that).
        { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' }),
  };
  const fresh = header(ctx, 'if-none-match') === file.etag;
  ctx.res.statusCode = fresh ? 304 : 200;
  for (const [key, value] of Object.entries(headers)) ctx.res.setHeader(key, value);
  if (fresh) {
    ctx.res.end();
    return;
  }
  ctx.res.setHeader('content-length', file.body.length);
  ctx.res.end(ctx.method === 'HEAD' ? undefined : file.body);
}
