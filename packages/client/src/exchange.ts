import { NetworkError, StallError, type RequestContext } from './errors.js';
import { abortReason } from './signals.js';
import { readBody, type Transport, type TransportRequest } from './transport.js';

/** A response read whole (upload responses are small: an empty 308, an object, an error). */
export interface Exchange {
  readonly status: number;
  header(name: string): string | undefined;
  readonly body: Uint8Array;
  text(): string;
}

/** No upload response is anywhere near this; a bigger one is not from a storage server. */
const RESPONSE_LIMIT = 1024 * 1024;

export interface ExchangeOptions {
  readonly signal: AbortSignal;
  readonly stallTimeout: number;
  readonly context: RequestContext;
}

/**
 * A request whose response body is read as it arrives (a download). The stall watchdog runs
 * until `close()`.
 */
export interface OpenExchange {
  readonly status: number;
  header(name: string): string | undefined;
  readonly body: AsyncIterable<Uint8Array>;
  close(): void;
}

/**
 * One request with stall detection. A stall is about the wire: no body byte accepted by the
 * network and no response byte received for `stallTimeout` ms. (A server acknowledges bytes only
 * when a request ends, so waiting for acknowledgements would mistake any long request for a
 * stall.) A stall aborts the request with a StallError; an abort of `signal` with its reason.
 */
export async function openExchange(
  transport: Transport,
  request: Omit<TransportRequest, 'signal' | 'onReceived'>,
  options: ExchangeOptions,
): Promise<OpenExchange> {
  const controller = new AbortController();
  const forward = () => controller.abort(abortReason(options.signal));
  if (options.signal.aborted) forward();
  options.signal.addEventListener('abort', forward, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const arm = () => {
    // Late callbacks (a socket write that completes after the answer) must not start a timer.
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(
      () => controller.abort(new StallError(options.stallTimeout, options.context)),
      options.stallTimeout,
    );
  };
  const close = () => {
    closed = true;
    clearTimeout(timer);
    options.signal.removeEventListener('abort', forward);
  };
  // Errors after an abort are the abort's doing: report its reason (stall, pause, the caller's).
  const explain = (error: unknown): unknown =>
    controller.signal.aborted ? abortReason(controller.signal) : error;
  arm();
  try {
    const response = await transport.request({
      ...request,
      signal: controller.signal,
      onSent: (bytes) => {
        arm();
        request.onSent?.(bytes);
      },
      onReceived: arm,
    });
    return {
      status: response.status,
      header: (name) => response.header(name),
      body: (async function* () {
        try {
          for await (const piece of response.body) {
            arm();
            yield piece;
          }
        } catch (error) {
          throw explain(error);
        }
      })(),
      close,
    };
  } catch (error) {
    close();
    throw explain(error);
  }
}

/** `openExchange` with the response body read whole: upload answers are small. */
export async function exchange(
  transport: Transport,
  request: Omit<TransportRequest, 'signal' | 'onReceived'>,
  options: ExchangeOptions,
): Promise<Exchange> {
  const open = await openExchange(transport, request, options);
  try {
    let body: Uint8Array;
    try {
      body = await readBody(open.body, RESPONSE_LIMIT);
    } catch (error) {
      if (error instanceof RangeError) {
        throw new NetworkError(
          `The response when ${options.context.what} is too large: ${error.message}.`,
          undefined,
        );
      }
      throw error;
    }
    return {
      status: open.status,
      header: (name) => open.header(name),
      body,
      text: () => new TextDecoder().decode(body),
    };
  } finally {
    open.close();
  }
}

/** The message in a GCS error body: the JSON envelope's, or the plain text (shortened). */
export function serverMessage(exchange: Exchange): string {
  const text = exchange.text().trim();
  try {
    const json = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof json.error?.message === 'string') return json.error.message;
  } catch {
    // Not JSON: GCS's upload protocol answers in plain text.
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
