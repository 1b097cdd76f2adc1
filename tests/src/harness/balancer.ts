import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP load balancer with no stickiness: each new connection goes to the next node in turn
 * (skipping nodes that refuse connections, as a balancer with health checks would). It can also
 * cut connections part-way, as a flaky network does.
 */
export class Balancer {
  /** Connections each node has been sent. */
  readonly served: number[];
  /** Connections cut so far. */
  cutsMade = 0;
  private next = 0;
  private cuts: number[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly targets: URL[],
    readonly url: string,
  ) {
    this.served = targets.map(() => 0);
  }

  static async start(targets: readonly string[]): Promise<Balancer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const balancer = new Balancer(
      server,
      targets.map((t) => new URL(t)),
      `http://127.0.0.1:${port}`,
    );
    server.on('connection', (client) => balancer.route(client));
    return balancer;
  }

  /** Replaces the nodes (a node restarted on a new port). */
  setTarget(index: number, url: string): void {
    this.targets[index] = new URL(url);
  }

  /**
   * Once clients have sent `bytes` more bytes (after the cuts asked for before this one), the
   * connection carrying them is reset, whatever is in flight: the client sees a connection
   * reset, the node a request that stops.
   */
  cutAfter(bytes: number): void {
    this.cuts.push(bytes);
  }

  /** Cuts asked for and not made yet. */
  get pendingCuts(): number {
    return this.cuts.length;
  }

  private route(client: Socket, attempt = 0): void {
    const index = this.next;
    this.next = (this.next + 1) % this.targets.length;
    const target = this.targets[index]!;
    const upstream = connect(Number(target.port), target.hostname);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.served[index]!++;
      this.pipe(client, upstream);
    });
    upstream.once('error', () => {
      if (!connected && attempt + 1 < this.targets.length) this.route(client, attempt + 1);
      else client.resetAndDestroy();
    });
  }

  private pipe(client: Socket, upstream: Socket): void {
    this.sockets.add(client).add(upstream);
    const reset = () => {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    let cut = false;
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      const left = this.cuts[0];
      if (left !== undefined && chunk.length >= left) {
        this.cuts.shift();
        this.cutsMade++;
        cut = true;
        upstream.write(chunk.subarray(0, left), reset);
        return;
      }
      if (left !== undefined) this.cuts[0] = left - chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', reset);
    upstream.on('error', reset);
    client.on('close', () => {
      this.sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
