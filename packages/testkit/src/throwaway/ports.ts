import { createConnection, createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:`port` right now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    // A connect that neither succeeds nor fails (a full backlog) must not outlast the caller's deadline.
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Resolves once 127.0.0.1:`port` accepts connections (`listening` true) or refuses them (false); rejects after
 * `timeoutMillis`, naming `what`.
 */
export async function waitForPort(
  port: number,
  listening: boolean,
  timeoutMillis: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while ((await accepts(port)) !== listening) {
    if (Date.now() > deadline) {
      const state = listening ? 'did not listen' : 'still listened';
      throw new Error(`[mq/testkit] ${what} ${state} on 127.0.0.1:${port} within ${timeoutMillis} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
