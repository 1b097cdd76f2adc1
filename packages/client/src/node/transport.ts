import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { NetworkError } from '../errors.js';
import { abortReason } from '../signals.js';
import type { Transport, TransportRequest, TransportResponse } from '../transport.js';

const USER_AGENT = `spool-client/0.1.0 node/${process.versions.node}`;

/**
 * node:http and node:https, streaming request bodies: a piece is pulled from the body only once
 * the socket has taken the last one (its write completed), so sources can reuse one buffer and
 * memory stays flat whatever the size; `onSent` reports bytes as the socket takes them.
 */
export class NodeHttpTransport implements Transport {
  private readonly http = new HttpAgent({ keepAlive: true });
  private readonly https = new HttpsAgent({ keepAlive: true });

  request(req: TransportRequest): Promise<TransportResponse> {
    return new Promise<TransportResponse>((resolve, reject) => {
      if (req.signal.aborted) {
        reject(abortReason(req.signal));
        return;
      }
      const url = new URL(req.url);
      const secure = url.protocol === 'https:';
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
      if (req.body || req.method === 'PUT' || req.method === 'POST') {
        headers['content-length'] = String(req.body?.length ?? 0);
      }
      const outgoing = (secure ? httpsRequest : httpRequest)(url, {
        method: req.method,
        headers,
        agent: secure ? this.https : this.http,
      });
      let responded = false;
      let bodyDone = req.body === undefined;
      const onAbort = () => {
        outgoing.destroy();
        if (!responded) reject(abortReason(req.signal));
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      const settle = () => req.signal.removeEventListener('abort', onAbort);

      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        if (responded) return;
        settle();
        reject(req.signal.aborted ? abortReason(req.signal) : networkError(error));
      });
      outgoing.on('response', (res: IncomingMessage) => {
        responded = true;
        req.onReceived?.();
        resolve({
          status: res.statusCode ?? 0,
          header: (name) => {
            const value = res.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          body: responseBody(res, req, () => {
            settle();
            // An answer that came before the whole body was sent leaves the connection unusable.
            if (!bodyDone) outgoing.destroy();
          }),
        });
      });

      if (!req.body) {
        outgoing.end();
        return;
      }
      const body = req.body;
      void (async () => {
        try {
          for await (const piece of body.chunks) {
            if (responded || outgoing.destroyed) break;
            if (await written(outgoing, piece)) req.onSent?.(piece.length);
          }
          if (!responded && !outgoing.destroyed) {
            bodyDone = true;
            outgoing.end();
          }
        } catch (error) {
          // The source failed (a file that changed, a stream that broke): not a network matter.
          if (!responded) {
            settle();
            reject(error instanceof Error ? error : new Error(String(error)));
          }
          outgoing.destroy();
        }
      })();
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

async function* responseBody(
  res: IncomingMessage,
  req: TransportRequest,
  done: () => void,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const piece of res) {
      req.onReceived?.();
      yield piece as Buffer;
    }
    // A connection closed before the announced length arrived ends the stream without error.
    if (!res.complete)
      throw new NetworkError('the connection closed in the middle of the response.', 'ECONNRESET');
  } catch (error) {
    if (req.signal.aborted) throw abortReason(req.signal);
    if (error instanceof NetworkError) throw error;
    throw networkError(error as NodeJS.ErrnoException);
  } finally {
    done();
  }
}

/** Writes a piece; resolves once the socket has taken it (true) or the request closed (false). */
function written(outgoing: ReturnType<typeof httpRequest>, piece: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    const closed = () => resolve(false);
    outgoing.once('close', closed);
    outgoing.write(piece, (error) => {
      outgoing.off('close', closed);
      resolve(!error);
    });
  });
}

function networkError(error: NodeJS.ErrnoException): NetworkError {
  const code = error.code;
  const what =
    code === 'ECONNREFUSED'
      ? 'the connection was refused'
      : code === 'ENOTFOUND'
        ? 'the host name was not found'
        : code === 'ECONNRESET' || error.message === 'socket hang up'
          ? 'the connection was reset'
          : error.message;
  return new NetworkError(`${what}${code ? ` (${code})` : ''}.`, code, { cause: error });
}
