import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** What an operator can change about a refusal (the flags behind Node's limits). */
export interface ClientErrorLimits {
  readonly maxHeaderSize: number;
  readonly headersTimeoutMs: number;
}

/**
 * Answers what Node's HTTP parser refuses before or while a request reaches the handler (the
 * server's 'clientError' event), in place of Node's default empty answers.
 *
 * A request whose connection the client closed in the middle of its body (its sending side
 * ended: HPE_INVALID_EOF_STATE) gets no answer at all. The handler keeps what arrived, as for any
 * cut connection; Node's default 400 would tell a client that may still be listening (a proxy
 * gave up on the request, not the client) that its request was malformed, and a client does not
 * retry a 400: it would abandon an upload that can go on.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Duplex,
  limits: ClientErrorLimits,
): void {
  const answered = (socket as Partial<Socket>).bytesWritten ?? 0;
  if (error.code === 'HPE_INVALID_EOF_STATE' || !socket.writable || answered > 0) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          `The request line and headers are larger than ${limits.maxHeaderSize} bytes (spool serve --max-header-size).`,
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [
            408,
            'Request Timeout',
            `The request headers did not arrive within ${limits.headersTimeoutMs} ms (spool serve --headers-timeout).`,
          ]
        : [
            400,
            'Bad Request',
            `This is not a valid HTTP/1.1 request (${error.code ?? 'parse error'}: ${error.message.slice(0, 100)}).`,
          ];
  answerAndClose(socket, status, reason, message);
}

/** A CONNECT request (the server's 'connect' event): Spool is no proxy. */
export function refuseConnect(socket: Duplex): void {
  answerAndClose(
    socket,
    405,
    'Method Not Allowed',
    'CONNECT is not allowed: Spool is a storage server, not a proxy.',
  );
}

function answerAndClose(socket: Duplex, status: number, reason: string, message: string): void {
  const body = `${message}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
