import { createServer, connect, type Server, type Socket } from 'node:net';

/** A request the proxy saw going to the server. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The object offset of the body's first byte (from Content-Range), when it has a body. */
  readonly first: number | undefined;
}

export interface Cut {
  /** 1 for the first cut. */
  readonly number: number;
  /**
   * The furthest object offset whose byte the proxy forwarded to the server since the previous
   * cut: everything the client had put on the wire, as far as the server could know.
   */
  readonly wireOffset: number | undefined;
}

type Action = 'cut' | 'freeze';

/**
 * A TCP proxy in front of a server, for tests that break connections where a real network would.
 * It counts the bytes going to the server, follows the HTTP requests in them (method, headers,
 * Content-Range, body bytes), and, at chosen points of the byte count, cuts the connection there
 * (the client gets a reset, the server sees the request end early) or freezes it (nothing more
 * passes either way, and nothing closes: a stall).
 */
export class TcpProxy {
  /** Bytes forwarded from clients to the server, request heads included. */
  bytesUp = 0;
  /** Object bytes forwarded: the bodies of requests with a Content-Range, resends included. */
  bodyBytesUp = 0;
  connections = 0;
  readonly requests: SeenRequest[] = [];
  readonly cuts: Cut[] = [];
  private readonly points: { at: number; action: Action }[] = [];
  private readonly sockets = new Set<Socket>();
  private wireOffset: number | undefined;
  private held = false;
  private readonly paused = new Set<Socket>();
  private onCut: ((cut: Cut) => Promise<void> | void) | undefined;
  /** Bytes a second towards the server, all connections together; undefined: no limit. */
  private rate: number | undefined;
  /** When (performance.now()) the bytes forwarded so far will have fit within the rate. */
  private sendAt = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private target: URL,
  ) {}

  static async start(target: string): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    const proxy = new TcpProxy(server, `http://127.0.0.1:${address.port}`, new URL(target));
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** Sends new connections to another server (a restarted one, on a new port). */
  retarget(target: string): void {
    this.target = new URL(target);
  }

  /**
   * Cuts the connection that carries byte number `at` (counting everything sent to the server)
   * right after it. Until `onCut` settles, nothing more is forwarded, so that a test can look at
   * the server in between.
   */
  cutAt(points: readonly number[], onCut?: (cut: Cut) => Promise<void> | void): void {
    this.points.push(...points.map((at) => ({ at, action: 'cut' as const })));
    this.points.sort((a, b) => a.at - b.at);
    this.onCut = onCut;
  }

  /**
   * Forwards at most `bytesPerSecond` towards the server, over all connections together, like a
   * slow uplink (undefined: as fast as possible). Answers pass unhindered.
   */
  limitRate(bytesPerSecond: number | undefined): void {
    this.rate = bytesPerSecond;
    this.sendAt = 0;
  }

  /** Freezes the connection that carries byte number `at`: it stays open, and silent. */
  freezeAt(at: number): void {
    this.points.push({ at, action: 'freeze' });
    this.points.sort((a, b) => a.at - b.at);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.connections++;
    const upstream = connect(Number(this.target.port), this.target.hostname);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    const meter = new RequestMeter(
      (request) => this.requests.push(request),
      (offset, bytes) => {
        this.bodyBytesUp += bytes;
        this.wireOffset = Math.max(this.wireOffset ?? 0, offset);
      },
    );
    let frozen = false;
    if (this.held) this.pause(client);
    client.on('data', (data: Buffer) => {
      if (frozen) return;
      const point = this.points[0];
      if (point && this.bytesUp + data.length >= point.at) {
        this.points.shift();
        const part = data.subarray(0, point.at - this.bytesUp);
        this.forward(upstream, meter, part);
        if (point.action === 'freeze') {
          frozen = true;
          upstream.pause();
          client.pause();
          return;
        }
        // The client sees a reset; the server sees the request end where the bytes stopped.
        client.resetAndDestroy();
        upstream.end();
        void this.afterCut();
        return;
      }
      if (!this.forward(upstream, meter, data)) {
        this.pause(client);
        upstream.once('drain', () => {
          if (!this.held) this.resume(client);
        });
      } else {
        this.throttle(client, data.length);
      }
    });
    client.on('end', () => upstream.end());
  }

  private forward(upstream: Socket, meter: RequestMeter, data: Buffer): boolean {
    this.bytesUp += data.length;
    meter.feed(data);
    return upstream.write(data);
  }

  /** Stops reading from `client` for as long as `bytes` take at the rate limit. */
  private throttle(client: Socket, bytes: number): void {
    if (this.rate === undefined) return;
    const now = performance.now();
    this.sendAt = Math.max(this.sendAt, now) + (bytes / this.rate) * 1000;
    const wait = this.sendAt - now;
    if (wait < 1) return;
    this.pause(client);
    setTimeout(() => {
      if (!this.held && !client.destroyed) this.resume(client);
    }, wait);
  }

  private async afterCut(): Promise<void> {
    const cut: Cut = { number: this.cuts.length + 1, wireOffset: this.wireOffset };
    this.cuts.push(cut);
    this.wireOffset = undefined;
    this.held = true;
    for (const socket of this.sockets) this.pause(socket);
    try {
      await this.onCut?.(cut);
    } finally {
      this.held = false;
      for (const socket of [...this.paused]) this.resume(socket);
    }
  }

  private pause(socket: Socket): void {
    socket.pause();
    this.paused.add(socket);
  }

  private resume(socket: Socket): void {
    this.paused.delete(socket);
    socket.resume();
  }
}

/**
 * Follows HTTP/1.1 requests in the bytes a client sends (every request this client sends has a
 * Content-Length), reporting each request and the object offsets its body covers.
 */
class RequestMeter {
  private head = Buffer.alloc(0);
  private remaining = 0;
  private offset: number | undefined;

  constructor(
    private readonly onRequest: (request: SeenRequest) => void,
    private readonly onBody: (offsetReached: number, bytes: number) => void,
  ) {}

  feed(data: Buffer): void {
    let rest = data;
    while (rest.length > 0) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, rest.length);
        this.remaining -= n;
        if (this.offset !== undefined) {
          this.offset += n;
          this.onBody(this.offset, n);
        }
        rest = rest.subarray(n);
        continue;
      }
      this.head = Buffer.concat([this.head, rest]);
      rest = Buffer.alloc(0);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.head.subarray(0, end).toString('latin1').split('\r\n');
      rest = this.head.subarray(end + 4);
      this.head = Buffer.alloc(0);
      const [method = '', path = ''] = lines[0]!.split(' ');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const m = /^bytes (\d+)-/.exec(headers['content-range'] ?? '');
      const first = m ? Number(m[1]) : undefined;
      this.onRequest({ method, path, headers, first });
      this.remaining = Number(headers['content-length'] ?? 0);
      this.offset = first;
    }
  }
}
