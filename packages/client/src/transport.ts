// The HTTP seam. The upload logic is the same everywhere; a transport only moves bytes: node:http
// in Node (./node), XMLHttpRequest in a browser (for its upload progress events). Stall detection,
// retries and hashing stay in the client, so every transport behaves the same.

export interface RequestBody {
  /** The exact length in bytes, sent as Content-Length. */
  readonly length: number;
  /**
   * The bytes, to be pulled once and in order; the client hashes them as they are pulled. A
   * piece is valid only until the next one is pulled (sources reuse one buffer, so that memory
   * stays flat): send or copy it first.
   */
  readonly chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /**
   * The same bytes as a Blob, when the source is one. A transport that cannot stream a request
   * body (XMLHttpRequest) may send this instead, but must still drain `chunks`.
   */
  readonly blob?: Blob;
}

export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  /** Header names in lower case. Content-Length is the transport's to set, from the body. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  /** Aborting rejects the request with the signal's reason and releases its connection. */
  readonly signal: AbortSignal;
  /** Report body bytes as the network accepts them (written to the socket, upload progress). */
  readonly onSent?: (bytes: number) => void;
  /** Report that response bytes arrived (the status line, headers, each piece of the body). */
  readonly onReceived?: () => void;
}

export interface TransportResponse {
  readonly status: number;
  /** A header by lower-case name; repeated headers joined with ", ". */
  header(name: string): string | undefined;
  /** The body, pulled once. Failing mid-body rejects with a NetworkError. */
  readonly body: AsyncIterable<Uint8Array>;
}

export interface Transport {
  /**
   * Sends one request and resolves when the response headers arrive. A connection failure
   * rejects with a NetworkError (errors.ts); an abort with the signal's reason.
   */
  request(request: TransportRequest): Promise<TransportResponse>;
}

/** Reads a whole response body, refusing more than `limit` bytes. */
export async function readBody(
  body: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of body) {
    length += part.length;
    if (length > limit) throw new RangeError(`the response body is larger than ${limit} bytes`);
    parts.push(part);
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
