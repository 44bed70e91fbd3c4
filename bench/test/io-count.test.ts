import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { countSocketIo, ioSince, ioSnapshot } from '../src/io-count.js';

const server = createServer((socket) => {
  socket.on('data', () => {});
});
afterAll(() => server.close());

async function connected(): Promise<Socket> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  const { port } = server.address() as { port: number };
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  await once(socket, 'connect');
  return socket;
}

describe('--io counts socket writes', () => {
  it('counts nothing until it is turned on', () => {
    expect(ioSince(ioSnapshot(), 1, 1)).toBeUndefined();
  });

  it('counts one write per unbuffered write and one per gathered writev, on the socket that wrote most as the sender', async () => {
    countSocketIo();
    const sender = await connected();
    const other = await connected();
    const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const before = ioSnapshot();
    for (let i = 0; i < 4; i += 1) await new Promise((resolve) => sender.write(Buffer.alloc(100), resolve));
    other.write('ack');
    await tick();
    // Each write waited for the one before: four writes, the most bytes on the sender's socket.
    expect(ioSince(before, 4, 2)).toMatchObject({ senderWrites: 1, receiverWrites: 1 / 2 });
    // Corked writes of one tick go out as one writev: what coalescing looks like in these counts.
    const corked = ioSnapshot();
    sender.cork();
    for (let i = 0; i < 4; i += 1) sender.write(Buffer.alloc(100));
    sender.uncork();
    await tick();
    expect(ioSince(corked, 4, 1)?.senderWrites).toBe(1 / 4);
    sender.destroy();
    other.destroy();
  });
});
