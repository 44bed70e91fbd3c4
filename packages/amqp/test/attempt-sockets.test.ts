import dc from 'node:diagnostics_channel';
import * as net from 'node:net';
import { amqpTestUrl } from '@mq/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { AmqpConnection } from '../src/index.js';

// Connection attempts that time out must leave no socket behind, also after close(). The broker under test is
// only reached through a proxy of the test's own, which delays or stops what it says: nothing of it is disturbed.

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/**
 * A proxy on 127.0.0.1 to `target` that passes what the client says at once, and what the broker says after
 * `delayMillis` per chunk, and only its first `chunks` chunks (then nothing: a node that went silent).
 */
async function slowProxy(
  target: { host: string; port: number } | undefined,
  delayMillis: number,
  chunks: number,
): Promise<number> {
  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (!target) return; // accepts, never answers
    const upstream = net.connect(target);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    let passed = 0;
    upstream.on('data', (chunk: Buffer) => {
      passed += 1;
      if (passed > chunks) return;
      setTimeout(() => {
        if (!client.destroyed) client.write(chunk);
      }, delayMillis);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    closers.push(() => socket.destroy());
  });
  return (server.address() as net.AddressInfo).port;
}

/** Every client socket made to 127.0.0.1:`port` while `run` runs, to check afterwards. */
async function socketsTo(port: number, run: () => Promise<void>): Promise<net.Socket[]> {
  const made: net.Socket[] = [];
  const onSocket = (message: unknown): void => {
    const { socket } = message as { socket: net.Socket };
    socket.once('connect', () => {
      if (socket.remotePort === port) made.push(socket);
    });
  };
  dc.subscribe('net.client.socket', onSocket);
  try {
    await run();
  } finally {
    dc.unsubscribe('net.client.socket', onSocket);
  }
  return made;
}

async function attemptFor(port: number, millis: number): Promise<number> {
  const conn = new AmqpConnection({
    uri: `amqp://guest:guest@127.0.0.1:${port}`,
    connectTimeoutMillis: 300,
    reconnectMillis: 100,
    reconnectMaxMillis: 200,
    heartbeatSeconds: 0,
  });
  let failures = 0;
  conn.on('error', () => {
    failures += 1;
  });
  conn.connect();
  await new Promise((resolve) => setTimeout(resolve, millis));
  await conn.close();
  return failures;
}

describe('timed-out connection attempts leave no socket behind', () => {
  it('against a server that accepts and never answers, every attempt socket is closed, also after close()', async () => {
    const port = await slowProxy(undefined, 0, 0);
    let failures = 0;
    const sockets = await socketsTo(port, async () => {
      failures = await attemptFor(port, 2500);
    });
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(sockets.length).toBeGreaterThanOrEqual(failures);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sockets.filter((socket) => !socket.destroyed)).toHaveLength(0);
  }, 20_000);

  it('against a broker whose handshake ends after the deadline and then goes silent, every late link is dropped, also after close()', async () => {
    const broker = new URL(amqpTestUrl());
    // Start, Tune and OpenOk 150 ms apart (the attempt times out at 300 ms, before OpenOk), then silence: the late
    // link's close is never answered.
    const port = await slowProxy({ host: broker.hostname, port: Number(broker.port || 5672) }, 150, 3);
    let failures = 0;
    const sockets = await socketsTo(port, async () => {
      failures = await attemptFor(port, 3000);
    });
    expect(failures).toBeGreaterThanOrEqual(3);
    // The late links' close is bounded by connectTimeoutMillis, then their sockets are destroyed.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sockets.filter((socket) => !socket.destroyed)).toHaveLength(0);
  }, 20_000);
});
