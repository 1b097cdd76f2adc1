import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  text(): string;
  json<T = Record<string, unknown>>(): T;
}

export interface RawRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Record<string, string | number>;
  /** A body sent with Content-Length, or, as an array, chunk by chunk (chunked encoding). */
  readonly body?: Buffer | string | Buffer[];
  /** Fail once the connection has been silent this long (ms); never by default. */
  readonly idleTimeoutMs?: number;
}

/** The error message of an answer: the JSON envelope's message, an XML error's Message and Details, or the plain text. */
export function messageOf(res: RawResponse): string {
  const text = res.text();
  if (text.startsWith('<?xml')) {
    const unescape = (v: string) =>
      v
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    return ['Message', 'Details']
      .map((name) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(unescape)
      .join(' ');
  }
  try {
    return res.json<{ error: { message: string } }>().error.message;
  } catch {
    return text;
  }
}

/** One HTTP request with full control over headers; the body is returned whole. */
export function send(req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      req.url,
      { method: req.method, headers: req.headers ?? {}, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve(
            response(res.statusCode!, res.statusMessage ?? '', res.headers, Buffer.concat(parts)),
          ),
        );
      },
    );
    r.on('error', reject);
    if (req.idleTimeoutMs !== undefined)
      r.setTimeout(req.idleTimeoutMs, () => r.destroy(new Error('the connection went silent')));
    if (Array.isArray(req.body)) {
      for (const chunk of req.body) r.write(chunk);
      r.end();
    } else {
      r.end(req.body);
    }
  });
}

function response(
  status: number,
  statusMessage: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): RawResponse {
  return {
    status,
    statusMessage,
    headers,
    body,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

/**
 * Sends the headers and the first `sendBytes` of a body that announces more, then cuts the
 * connection: what a client whose network died mid-chunk looks like to the server.
 */
export async function sendAndCut(
  url: string,
  method: string,
  headers: Record<string, string | number>,
  body: Buffer,
  sendBytes: number,
): Promise<void> {
  const target = new URL(url);
  const socket = connect(Number(target.port), target.hostname);
  await new Promise<void>((resolve, reject) =>
    socket.once('connect', resolve).once('error', reject),
  );
  const lines = [`${method} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  await new Promise<void>((resolve) => socket.write(body.subarray(0, sendBytes), () => resolve()));
  // Give the server a moment to read what was sent before the connection goes away.
  await new Promise((r) => setTimeout(r, 100));
  socket.resetAndDestroy();
  await new Promise((r) => setTimeout(r, 50));
}

/** Writes raw bytes (a possibly malformed request) and returns whatever comes back. */
export async function sendRaw(url: string, raw: Buffer | string, waitMs = 2000): Promise<string> {
  const target = new URL(url);
  const socket = connect(Number(target.port), target.hostname);
  const parts: Buffer[] = [];
  socket.on('data', (c: Buffer) => parts.push(c));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) =>
    socket.once('connect', resolve).once('error', reject),
  );
  socket.write(raw);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.destroy();
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Starts a chunk (`body` from offset `first`, of an object of `total` bytes or `*`) on a raw
 * socket and sends `bytes` of its body, leaving the request open: a client still sending, or one
 * whose connection died without the server noticing.
 */
export async function startChunk(
  uri: string,
  first: number,
  body: Buffer,
  total: string,
  bytes: number,
): Promise<Socket> {
  const target = new URL(uri);
  const socket = connect(Number(target.port), target.hostname);
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  socket.write(
    `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
      `Content-Range: bytes ${first}-${first + body.length - 1}/${total}\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  await new Promise<void>((r) => socket.write(body.subarray(0, bytes), () => r()));
  return socket;
}

/** A response read as it arrives, for bodies that stall or stop short. */
export interface StreamedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Body bytes received so far. */
  received(): number;
  body(): Buffer;
  /** 'complete', or 'cut' when the connection closed before the announced length. */
  readonly ended: Promise<'complete' | 'cut'>;
  /** Gives up on the response (the client closes the connection). */
  abort(): void;
}

/** Sends a request and resolves as soon as the status and headers arrive. */
export function openResponse(req: RawRequest): Promise<StreamedResponse> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      req.url,
      { method: req.method, headers: req.headers ?? {}, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          parts.push(c);
          size += c.length;
        });
        const ended = new Promise<'complete' | 'cut'>((done) => {
          res.on('end', () => done(res.complete ? 'complete' : 'cut'));
          res.on('error', () => done('cut'));
          res.on('close', () => done(res.complete ? 'complete' : 'cut'));
        });
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          received: () => size,
          body: () => Buffer.concat(parts),
          ended,
          abort: () => r.destroy(),
        });
      },
    );
    r.on('error', reject);
    r.end(req.body as Buffer | string | undefined);
  });
}

/**
 * Writes a raw request and reports how the server ended the connection: 'reset' (a TCP RST, seen
 * by the socket as ECONNRESET) or 'closed' (an orderly close), with whatever bytes came first.
 * With `halfClose`, the client then ends its sending side (what a request cut short by a proxy,
 * or by a client that gave up writing, looks like).
 */
export async function connectionEnding(
  url: string,
  raw: Buffer | string,
  { halfClose = false } = {},
): Promise<{ ending: 'reset' | 'closed'; received: Buffer }> {
  const target = new URL(url);
  const socket = connect(Number(target.port), target.hostname);
  const parts: Buffer[] = [];
  socket.on('data', (c: Buffer) => parts.push(c));
  let code: string | undefined;
  socket.on('error', (error: NodeJS.ErrnoException) => (code = error.code));
  await new Promise<void>((resolve, reject) =>
    socket.once('connect', resolve).once('error', reject),
  );
  socket.write(raw);
  if (halfClose) socket.end();
  await new Promise((resolve) => socket.once('close', resolve));
  return { ending: code === 'ECONNRESET' ? 'reset' : 'closed', received: Buffer.concat(parts) };
}
