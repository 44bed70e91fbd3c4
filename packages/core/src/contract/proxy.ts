import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback for fault injection: point a client at `proxy.port` instead of the broker, then make
 * the broker go silent (`freeze()`: sockets stay open, nothing passes, as with a hung broker or a black-holed
 * network), come back (`thaw()`), or drop every link at once (`cut()`).
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  #frozen = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts a proxy to `host:port` on loopback port `port` (a free one by default). */
  static async start(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, target));
    proxy = new TcpProxy(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** A loopback port free right now, nothing listening on it: for a broker that is "down" until a proxy starts there. */
  static async freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** The port the proxy listens on (127.0.0.1). */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Open client links. */
  get links(): number {
    return this.#pairs.size;
  }

  /** Stops passing bytes both ways; sockets stay open. */
  freeze(): void {
    this.#frozen = true;
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Passes bytes again; a client whose broker side closed while frozen now sees its link end. */
  thaw(): void {
    if (!this.#frozen) return;
    this.#frozen = false;
    for (const pair of [...this.#pairs]) {
      const [client, upstream] = pair;
      if (upstream.destroyed) {
        this.#pairs.delete(pair);
        client.destroy();
        continue;
      }
      client.pipe(upstream);
      upstream.pipe(client);
    }
  }

  /** Destroys every link, as a network failure would. */
  cut(): void {
    for (const [client, upstream] of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  /** Cuts every link and stops listening. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Wires a new client to a new upstream socket. */
  private accept(client: Socket, target: { host: string; port: number }): void {
    const upstream = createConnection(target);
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // While frozen nothing reaches the client, not even the broker closing its side (a partition hides that
    // too): the client must find out by itself, through its heartbeats. It learns on thaw() or cut().
    const upstreamEnded = (): void => {
      if (this.#frozen) upstream.destroy();
      else end();
    };
    client.on('error', end);
    client.on('close', end);
    upstream.on('error', upstreamEnded);
    upstream.on('close', upstreamEnded);
    if (!this.#frozen) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  }
}
