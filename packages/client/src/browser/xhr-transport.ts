import { NetworkError } from '../errors.js';
import { abortReason } from '../signals.js';
import type { RequestBody, Transport, TransportRequest, TransportResponse } from '../transport.js';

/**
 * XMLHttpRequest: the one browser API with upload progress events (fetch has none, and cannot
 * stream a request body over HTTP/1.1). A body whose source is a Blob (a File) is sent as a slice
 * of it, which the browser streams from disk; its pieces are still pulled alongside, because the
 * client hashes them as they are pulled. Any other body (bytes, a stream's chunk, which the
 * client holds in memory anyway) is copied into one buffer first: a piece is only valid until the
 * next one is pulled.
 *
 * The promise resolves once the whole answer is in (upload answers are small) and the pulling of
 * pieces has stopped, so that nothing hashes behind the client's back once it reads the answer.
 */
export class XhrTransport implements Transport {
  request(req: TransportRequest): Promise<TransportResponse> {
    return new Promise<TransportResponse>((resolve, reject) => {
      if (req.signal.aborted) {
        reject(abortReason(req.signal));
        return;
      }
      const xhr = new XMLHttpRequest();
      xhr.open(req.method, req.url);
      xhr.responseType = 'arraybuffer';
      // Content-Length is the browser's to set (a forbidden header), from the body.
      for (const [name, value] of Object.entries(req.headers)) xhr.setRequestHeader(name, value);

      let settled = false;
      const pulled = new AbortController();
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        req.signal.removeEventListener('abort', onAbort);
        pulled.abort();
        outcome();
      };
      const fail = (error: unknown) => {
        settle(() => reject(error instanceof Error ? error : new Error(String(error))));
        xhr.abort();
      };
      const onAbort = () => fail(abortReason(req.signal));
      req.signal.addEventListener('abort', onAbort, { once: true });

      let reported = 0;
      // Listening on xhr.upload must start before send() for its events to fire at all.
      xhr.upload.onprogress = (event) => {
        if (event.loaded > reported) req.onSent?.(event.loaded - reported);
        reported = Math.max(reported, event.loaded);
      };
      xhr.onreadystatechange = () => {
        if (xhr.readyState >= XMLHttpRequest.HEADERS_RECEIVED) req.onReceived?.();
      };
      xhr.onprogress = () => req.onReceived?.();
      xhr.onerror = () =>
        fail(
          new NetworkError(
            // The browser says no more than this: a refused or reset connection, a DNS failure,
            // a CORS refusal and going offline all look the same to a script.
            'the request failed before an answer arrived (the connection failed, or the server does not allow this origin: CORS).',
            undefined,
          ),
        );

      let bodyDone: Promise<void> = Promise.resolve();
      xhr.onload = () => {
        // An answer before the whole body was pulled (an early error): stop pulling. The client
        // hashes whatever it did not pull later, when it needs it.
        pulled.abort();
        bodyDone.then(
          () => settle(() => resolve(response(xhr))),
          (error: unknown) => fail(error),
        );
      };

      const body = req.body;
      if (!body || body.length === 0) {
        xhr.send(null);
        if (body) bodyDone = drain(body, pulled.signal);
      } else if (body.blob) {
        xhr.send(body.blob);
        bodyDone = drain(body, pulled.signal);
        bodyDone.catch(fail);
      } else {
        copy(body).then(
          (bytes) => {
            if (!settled) xhr.send(bytes);
          },
          (error: unknown) => fail(error),
        );
      }
    });
  }
}

/** Pulls every piece (the client hashes them), stopping early once the request is over. */
async function drain(body: RequestBody, stop: AbortSignal): Promise<void> {
  for await (const _piece of body.chunks) {
    if (stop.aborted) return;
  }
}

async function copy(body: RequestBody): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(body.length);
  let at = 0;
  for await (const piece of body.chunks) {
    if (at + piece.length > bytes.length) {
      throw new RangeError(`the request body is longer than its declared ${body.length} bytes`);
    }
    bytes.set(piece, at);
    at += piece.length;
  }
  if (at !== bytes.length) {
    throw new RangeError(`the request body ended at ${at} of its declared ${body.length} bytes`);
  }
  return bytes;
}

function response(xhr: XMLHttpRequest): TransportResponse {
  const body = new Uint8Array((xhr.response as ArrayBuffer | null) ?? new ArrayBuffer(0));
  return {
    status: xhr.status,
    header: (name) => xhr.getResponseHeader(name) ?? undefined,
    body: once(body),
  };
}

/** One piece, as the async iterable the transport contract wants. */
function once(piece: Uint8Array): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      let done = false;
      return {
        next: () => {
          const result: IteratorResult<Uint8Array> = done
            ? { done: true, value: undefined }
            : { done: false, value: piece };
          done = true;
          return Promise.resolve(result);
        },
      };
    },
  };
}
