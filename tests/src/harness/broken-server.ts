import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/** A request the broken server received, its body read whole. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/**
 * A tiny HTTP server that answers the upload protocol wrongly on purpose: it stands for a broken
 * or hostile storage server (no such thing is shipped; Spool itself behaves). Every request is
 * recorded; `answer` decides what it gets, given everything received before it.
 */
export class BrokenServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly received: Received[],
  ) {}

  static async start(
    answer: (request: Received, earlier: readonly Received[]) => Answer,
  ): Promise<BrokenServer> {
    const received: Received[] = [];
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const request: Received = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(parts),
        };
        const earlier = [...received];
        received.push(request);
        const reply = answer(request, earlier);
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return new BrokenServer(server, `http://127.0.0.1:${port}`, received);
  }

  /** The session URI it hands out. */
  get sessionUri(): string {
    return `${this.url}/upload/storage/v1/b/bucket-1/o?uploadType=resumable&upload_id=broken`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
