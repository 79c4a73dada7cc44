// A TCP proxy between one client (an operator process) and the API server, which the test can
// turn into network faults: `partition()` stops all traffic while every connection stays open, as
// when a node loses its network — requests hang rather than fail; `stallOpenConnections()` does
// that to the connections open now only, as when the server behind a load balancer dies without
// a word — new connections go through. With `latencyMs`, every byte is delivered that much later each
// way, as across the network between a pod and a remote (e.g. managed) control plane. TLS passes
// through untouched.
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  held: boolean;
}

export class TcpProxy {
  private readonly server: Server;
  private readonly target: { host: string; port: number };
  private readonly pairs = new Set<Pair>();
  private partitioned = false;
  private readonly latencyMs: number;
  /** When the partition began (ms since the epoch), or null. */
  partitionedAt: number | null = null;

  private constructor(target: { host: string; port: number }, latencyMs: number) {
    this.target = target;
    this.latencyMs = latencyMs;
    this.server = createServer((client) => this.accept(client));
  }

  /** A proxy on a free loopback port forwarding to `target` (e.g. the API server's host and port). */
  static async start(target: { host: string; port: number }, options: { latencyMs?: number } = {}): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, options.latencyMs ?? 0);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** From now on nothing passes either way, and nothing is closed: every request hangs. */
  partition(): void {
    this.partitioned = true;
    this.partitionedAt = Date.now();
    for (const pair of this.pairs) this.hold(pair);
  }

  /** The connections open now stop passing anything, and stay open; new connections pass. */
  stallOpenConnections(): void {
    for (const pair of this.pairs) this.hold(pair);
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream?.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, upstream: undefined, held: false };
    this.pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => {
      pair.upstream?.destroy();
      this.pairs.delete(pair);
    });
    if (this.partitioned) return this.hold(pair);
    const upstream = connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => {
      if (!pair.held) this.later(() => client.destroy());
    });
    if (this.latencyMs === 0) {
      client.pipe(upstream);
      upstream.pipe(client);
      return;
    }
    this.forwardLate(client, upstream);
    this.forwardLate(upstream, client);
  }

  private later(what: () => void): void {
    if (this.latencyMs === 0) what();
    else setTimeout(what, this.latencyMs);
  }

  /** Each chunk, and the end, `latencyMs` later: timers of equal delay fire in order, so the stream stays in order. */
  private forwardLate(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => this.later(() => to.destroyed || to.write(chunk)));
    from.on('end', () => this.later(() => to.end()));
  }

  /** Stops forwarding on a connection but keeps the client's side open, reading and dropping. */
  private hold(pair: Pair): void {
    pair.held = true;
    pair.client.unpipe();
    pair.upstream?.unpipe();
    pair.upstream?.removeAllListeners('data');
    pair.upstream?.on('error', () => undefined);
    pair.client.removeAllListeners('data');
    pair.client.on('data', () => undefined);
  }
}
