import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'vitest';
import { MqttConnection } from '../src/index.js';
import { until } from './helpers.js';

// Issue #25.5: a broker that accepts TCP but never answers the handshake (a dead node behind a load balancer)
// must not cost a socket per timed-out attempt, neither while the connection keeps trying nor after close().

/** A TCP server that accepts and never writes a byte; counts the sockets still open. */
async function silentServer(): Promise<{
  server: Server;
  port: number;
  open: Set<Socket>;
  accepted: () => number;
}> {
  const open = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    open.add(socket);
    socket.on('error', () => {});
    // Flowing, so that the client's FIN is read and the socket closes.
    socket.resume();
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, port, open, accepted: () => accepted };
}

let server: Server | undefined;
let serverSockets: Set<Socket> | undefined;
afterEach(async () => {
  const closing = server;
  server = undefined;
  for (const socket of serverSockets ?? []) socket.destroy();
  await new Promise<void>((resolve) => (closing ? closing.close(() => resolve()) : resolve()));
});

/** TCP sockets this process holds open. */
function ownSockets(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
}

describe('connection attempts that time out against a broker that never answers', () => {
  it.each(['mqtt', 'mqtts', 'ws'])(
    'leave no socket open: at most the attempt in progress while it keeps trying, none after close() (%s:)',
    async (scheme) => {
      const silent = await silentServer();
      server = silent.server;
      serverSockets = silent.open;
      const before = ownSockets();
      const conn = new MqttConnection({
        uri: `${scheme}://127.0.0.1:${silent.port}`,
        connectTimeoutMillis: 200,
        reconnectMillis: 50,
        reconnectMaxMillis: 100,
      });
      conn.on('error', () => {});
      conn.connect();
      await until(() => silent.accepted() >= 8, 'eight attempts', 10_000);
      // The server sees each attempt's socket closed once it timed out: one may be in progress.
      await until(
        () => silent.open.size <= 1,
        `the timed-out sockets closed (open: ${silent.open.size})`,
        2000,
      );
      await conn.close();
      await until(
        () => silent.open.size === 0,
        `every socket closed after close() (open: ${silent.open.size})`,
        2000,
      );
      await until(() => ownSockets() <= before, 'no socket left in this process', 2000);
    },
    20_000,
  );
});
