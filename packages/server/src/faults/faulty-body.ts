import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../http/context.js';

export type BodyFaultAction =
  /** Close the connection (FIN) short of the announced Content-Length. */
  | { readonly kind: 'cut' }
  | { readonly kind: 'stall'; readonly ms: number }
  /** Change one byte: the one at the fault's offset. */
  | { readonly kind: 'corrupt' };

/** One fault at an offset of a response body. */
export interface BodyFault {
  /** Offset in the body: the fault happens before the byte at this offset is sent. */
  readonly at: number;
  readonly action: BodyFaultAction;
  /** Called when the body reaches `at`; false cancels the fault (its instruction went elsewhere). */
  fire(): boolean;
}

/**
 * Writes a response body whose status and headers are set, with one fault on the way. Each write
 * waits until the bytes are handed to the socket, so a cut comes exactly after the bytes before it.
 * A client that goes away ends the body quietly, stall included.
 */
export async function writeBodyWithFault(
  res: ServerResponse,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  fault: BodyFault,
): Promise<void> {
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  let sent = 0;
  let pending: BodyFault | undefined = fault;
  try {
    for await (const chunk of source) {
      let rest = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (pending && sent + rest.length > pending.at) {
        const before = pending.at - sent;
        await write(res, rest.subarray(0, before));
        sent += before;
        rest = rest.subarray(before);
        const firing = pending;
        pending = undefined;
        if (firing.fire()) {
          const action = firing.action;
          if (action.kind === 'cut') {
            res.flushHeaders();
            res.socket?.destroySoon();
            return;
          }
          if (action.kind === 'corrupt') {
            rest = Buffer.from(rest);
            // As the testbench does: the first byte becomes "A", or "B" if it was "A".
            rest[0] = rest[0] === 0x41 ? 0x42 : 0x41;
          } else {
            // The client sees the status and headers at once, then nothing, as from the testbench.
            res.flushHeaders();
            await sleep(action.ms, undefined, { signal: gone.signal }).catch(() => undefined);
          }
        }
      }
      await write(res, rest);
      sent += rest.length;
    }
  } catch (error) {
    if (res.destroyed) return;
    throw error;
  }
  if (!res.destroyed) res.end();
}

function write(res: ServerResponse, bytes: Buffer): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('the client went away'));
  if (bytes.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) =>
    res.write(bytes, (error) => (error ? reject(error) : resolve())),
  );
}

/** A JSON answer whose connection is cut after its first `bytes` bytes (all of it if shorter). */
export async function sendJsonCut(
  ctx: Context,
  status: number,
  body: unknown,
  bytes: number,
  headers: Record<string, string> = {},
): Promise<void> {
  const text = Buffer.from(JSON.stringify(body));
  ctx.res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value);
  ctx.res.setHeader('content-type', 'application/json; charset=UTF-8');
  ctx.res.setHeader('content-length', text.length);
  await writeBodyWithFault(ctx.res, [text], {
    at: bytes,
    action: { kind: 'cut' },
    fire: () => true,
  });
}
