import { createServer, request as httpRequest, type ClientRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as it crossed the wire, and how it was answered. */
export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly contentRange: string | undefined;
  status?: number;
  /** The Range header of a 308. */
  range?: string;
  location?: string;
  /** The instruction Spool says shaped the answer (x-spool-fault). */
  fault?: string;
  /** Set when the server reset the connection instead of answering. */
  reset?: boolean;
}

/**
 * A pass-through HTTP proxy in front of a server that writes down every exchange: the wire log
 * of what a client really did. A reset from the server is passed on to the client as a reset.
 */
export class WireRecorder {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly exchanges: Exchange[],
    /** Requests to the server still open: closing must end them too, or they hold the process. */
    private readonly upstreams: Set<ClientRequest>,
  ) {}

  static async start(target: string): Promise<WireRecorder> {
    const exchanges: Exchange[] = [];
    const upstreams = new Set<ClientRequest>();
    const server = createServer((req, res) => {
      const exchange: Exchange = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        contentRange: req.headers['content-range'],
      };
      exchanges.push(exchange);
      const upstream = httpRequest(
        `${target}${req.url}`,
        { method: req.method, headers: req.headers, agent: false },
        (answer) => {
          exchange.status = answer.statusCode;
          exchange.range = answer.headers.range;
          exchange.location = answer.headers.location;
          exchange.fault = answer.headers['x-spool-fault'] as string | undefined;
          res.writeHead(answer.statusCode!, answer.statusMessage, answer.headers);
          answer.pipe(res);
          answer.on('aborted', () => res.destroy());
        },
      );
      upstreams.add(upstream);
      upstream.on('close', () => upstreams.delete(upstream));
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNRESET') exchange.reset = true;
        req.socket.resetAndDestroy();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new WireRecorder(server, `http://127.0.0.1:${port}`, exchanges, upstreams);
  }

  /** The faults that reached the client, in order, in instruction form. */
  faults(): string[] {
    return this.exchanges.flatMap((e) =>
      e.fault ? [e.fault] : e.reset ? ['return-reset-connection'] : [],
    );
  }

  /** One line per exchange, for failure messages and the test log. */
  transcript(): string {
    return this.exchanges
      .map((e) => {
        const path = e.path.replace(/upload_id=[^&]+/, 'upload_id=…');
        const request = `${e.method} ${path}${e.contentRange ? ` [${e.contentRange}]` : ''}`;
        const answer = e.reset
          ? 'connection reset'
          : `${e.status ?? 'no answer'}${e.range ? ` [range ${e.range}]` : ''}`;
        return `${request} -> ${answer}${e.fault ? ` (fault ${e.fault})` : ''}`;
      })
      .join('\n');
  }

  async close(): Promise<void> {
    for (const upstream of this.upstreams) upstream.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
