import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Random } from './random.js';

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

/** Which way bytes go: to the server, or back to the client. */
export type Direction = 'up' | 'down';

/**
 * What a faulty network does to a piece of data: drop the connection with a reset, pass a part of
 * it then close that way (the other side sees the stream end early), hold it for a few
 * milliseconds, or hold it long (stall), possibly for good.
 */
export type FaultKind = 'reset' | 'truncate' | 'delay' | 'stall';

export interface ChaosOptions {
  readonly random: Random;
  /** Chance that a piece of data going to the server meets a fault. */
  readonly up: number;
  /** Chance that a piece of data coming back meets one (answers are few pieces: make it larger). */
  readonly down: number;
  /** Longest delay, in ms. */
  readonly maxDelayMs: number;
  /** Longest stall that ends, in ms; one stall in four never ends (the client must give up). */
  readonly maxStallMs: number;
}

/** One connection: the client's socket and the one to the server. */
interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly meter: RequestMeter;
  /** Directions a fault closed early: what still arrives that way is dropped. */
  readonly closed: Set<Direction>;
}

/**
 * A TCP proxy in front of a server, for tests that break connections where a real network would.
 * It counts the bytes going to the server, follows the HTTP requests in them (method, headers,
 * Content-Range, body bytes), and, at chosen points of the byte count, cuts the connection there
 * (the client gets a reset, the server sees the request end early) or freezes it (nothing more
 * passes either way, and nothing closes: a stall). With `chaos`, it also resets, truncates, delays
 * and stalls at random, both ways. `hold` stops all traffic (new connections wait, unconnected)
 * until `release`: the time to restart the server behind it and look at it undisturbed.
 */
export class TcpProxy {
  /** Bytes forwarded from clients to the server, request heads included. */
  bytesUp = 0;
  /** Object bytes forwarded: the bodies of requests with a Content-Range, resends included. */
  bodyBytesUp = 0;
  connections = 0;
  readonly requests: SeenRequest[] = [];
  readonly cuts: Cut[] = [];
  /** Faults the chaos mode injected, by kind and direction ("reset up", "stall down", …). */
  readonly faults = new Map<string, number>();
  private readonly points: { at: number; action: Action }[] = [];
  private readonly sockets = new Set<Socket>();
  private wireOffset: number | undefined;
  private held = false;
  private readonly paused = new Set<Socket>();
  /** Sockets a freeze or a fault holds still: releasing the proxy leaves them be. */
  private readonly blocked = new Set<Socket>();
  private readonly waiting: (() => void)[] = [];
  private onCut: ((cut: Cut) => Promise<void> | void) | undefined;
  private chaosOptions: ChaosOptions | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
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

  /** Injects faults at random from now on (`undefined` stops). */
  chaos(options: ChaosOptions | undefined): void {
    this.chaosOptions = options;
  }

  /** Faults injected in all. */
  get faultCount(): number {
    let n = 0;
    for (const count of this.faults.values()) n += count;
    return n;
  }

  /** Stops all traffic: open connections pause, new ones wait without reaching the server. */
  hold(): void {
    this.held = true;
    for (const socket of this.sockets) this.pause(socket);
  }

  /** Lets traffic flow again; connections that waited reach the (current) target now. */
  release(): void {
    this.held = false;
    for (const socket of [...this.paused]) this.resume(socket);
    for (const go of this.waiting.splice(0)) go();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.waiting.length = 0;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.connections++;
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    if (!this.held) return this.link(client);
    client.pause();
    this.waiting.push(() => {
      if (!client.destroyed) this.link(client);
    });
  }

  private link(client: Socket): void {
    const upstream = connect(Number(this.target.port), this.target.hostname);
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    const link: Link = {
      client,
      upstream,
      meter: new RequestMeter(
        (request) => this.requests.push(request),
        (offset, bytes) => {
          this.bodyBytesUp += bytes;
          this.wireOffset = Math.max(this.wireOffset ?? 0, offset);
        },
      ),
      closed: new Set(),
    };
    upstream.on('data', (data: Buffer) => this.down(link, data));
    client.on('data', (data: Buffer) => this.up(link, data));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.resume();
  }

  private up(link: Link, data: Buffer): void {
    const { client, upstream } = link;
    if (link.closed.has('up')) return;
    const point = this.points[0];
    if (point && this.bytesUp + data.length >= point.at) {
      this.points.shift();
      const part = data.subarray(0, point.at - this.bytesUp);
      this.forward(link, part);
      if (point.action === 'freeze') {
        for (const socket of [client, upstream]) this.block(socket);
        return;
      }
      // The client sees a reset; the server sees the request end where the bytes stopped.
      client.resetAndDestroy();
      upstream.end();
      void this.afterCut();
      return;
    }
    if (this.chaosFault(link, 'up', data)) return;
    this.send(client, upstream, () => this.forward(link, data));
    if (!this.paused.has(client)) this.throttle(client, data.length);
  }

  /** Stops reading from `client` for as long as `bytes` take at the rate limit. */
  private throttle(client: Socket, bytes: number): void {
    if (this.rate === undefined) return;
    const now = performance.now();
    this.sendAt = Math.max(this.sendAt, now) + (bytes / this.rate) * 1000;
    const wait = this.sendAt - now;
    if (wait < 1) return;
    this.pause(client);
    this.later(wait, () => {
      if (!this.held && !client.destroyed) this.resume(client);
    });
  }

  private down(link: Link, data: Buffer): void {
    if (link.closed.has('down')) return;
    if (this.chaosFault(link, 'down', data)) return;
    this.send(link.upstream, link.client, () => link.client.write(data));
  }

  /** Writes with back-pressure: `from` waits while `to` drains. */
  private send(from: Socket, to: Socket, write: () => boolean): void {
    if (write()) return;
    this.pause(from);
    to.once('drain', () => {
      if (!this.held) this.resume(from);
    });
  }

  private forward(link: Link, data: Buffer): boolean {
    this.bytesUp += data.length;
    link.meter.feed(data);
    return link.upstream.write(data);
  }

  /** Maybe injects a fault on `data`; true when the fault took over its delivery. */
  private chaosFault(link: Link, direction: Direction, data: Buffer): boolean {
    const chaos = this.chaosOptions;
    if (!chaos || !chaos.random.chance(chaos[direction])) return false;
    const { random } = chaos;
    const kind = random.pick<FaultKind>(['reset', 'truncate', 'delay', 'stall']);
    this.faults.set(`${kind} ${direction}`, (this.faults.get(`${kind} ${direction}`) ?? 0) + 1);
    const [from, to] =
      direction === 'up' ? [link.client, link.upstream] : [link.upstream, link.client];
    const deliver = (bytes: Buffer) =>
      direction === 'up' ? this.forward(link, bytes) : link.client.write(bytes);
    const part = data.subarray(0, random.int(0, data.length));
    switch (kind) {
      case 'reset':
        deliver(part);
        link.client.resetAndDestroy();
        link.upstream.resetAndDestroy();
        return true;
      case 'truncate':
        // The receiving side sees its stream end early; the connection goes soon after.
        deliver(part);
        link.closed.add(direction);
        to.end();
        this.later(200, () => {
          link.client.destroy();
          link.upstream.destroy();
        });
        return true;
      case 'delay':
      case 'stall': {
        const ms =
          kind === 'delay' ? random.int(1, chaos.maxDelayMs) : random.int(1, chaos.maxStallMs);
        const forever = kind === 'stall' && random.chance(0.25);
        this.block(from);
        if (forever) return true;
        this.later(ms, () => {
          this.blocked.delete(from);
          if (from.destroyed || to.destroyed) return;
          this.send(from, to, () => deliver(data));
          if (!this.held) this.resume(from);
        });
        return true;
      }
    }
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private async afterCut(): Promise<void> {
    const cut: Cut = { number: this.cuts.length + 1, wireOffset: this.wireOffset };
    this.cuts.push(cut);
    this.wireOffset = undefined;
    this.hold();
    try {
      await this.onCut?.(cut);
    } finally {
      this.release();
    }
  }

  private pause(socket: Socket): void {
    socket.pause();
    this.paused.add(socket);
  }

  private resume(socket: Socket): void {
    this.paused.delete(socket);
    if (!this.blocked.has(socket)) socket.resume();
  }

  private block(socket: Socket): void {
    this.blocked.add(socket);
    socket.pause();
    socket.once('close', () => this.blocked.delete(socket));
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
