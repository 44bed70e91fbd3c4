import { MqError, waitForStatus } from '@mq/core';
import { amqpTestUrl, TcpProxy, uniqueId } from '@mq/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { AmqpConnection, AmqpQueue } from '../src/index.js';

// A broker that goes silent (socket open, nothing answers) is found only by heartbeats, and not at all with
// heartbeats off: sends and close() must still settle in bounded time.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function throughProxy(): Promise<{ proxy: TcpProxy; conn: AmqpConnection }> {
  const broker = new URL(amqpTestUrl());
  const proxy = await TcpProxy.start({ host: broker.hostname, port: Number(broker.port || 5672) });
  broker.port = String(proxy.port);
  const conn = new AmqpConnection({
    uri: broker.toString(),
    heartbeatSeconds: 0,
    connectTimeoutMillis: 1000,
  });
  conn.on('error', () => {});
  cleanups.push(async () => {
    proxy.thaw();
    await conn.close();
    await proxy.close();
  });
  conn.connect();
  await waitForStatus(conn, 'connected');
  return { proxy, conn };
}

describe('a broker that goes silent', () => {
  it('a reliable send rejects with TIMEOUT after sendTimeoutMillis, and close() resolves', async () => {
    const { proxy, conn } = await throughProxy();
    const send = new AmqpQueue(
      { name: `mq-test.${uniqueId('silent')}`, isRecv: false, reliable: true, sendTimeoutMillis: 500 },
      conn,
    );
    send.connect();
    await waitForStatus(send, 'connected');
    await send.sendMsg(Buffer.from('heard'));
    proxy.freeze();
    const started = Date.now();
    const error = await send.sendMsg(Buffer.from('unheard')).catch((e: unknown) => e);
    expect(MqError.hasCode(error, 'TIMEOUT')).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    const closing = Date.now();
    await conn.close();
    expect(conn.status).toBe('closed');
    expect(Date.now() - closing).toBeLessThan(5000);
  }, 20_000);

  it('a receiver and its connection close in bounded time', async () => {
    const { proxy, conn } = await throughProxy();
    const recv = new AmqpQueue(
      { name: `mq-test.${uniqueId('silent')}`, isRecv: true, reliable: true, prefetch: 5 },
      conn,
    );
    recv.setMsgHandler((_q, message) => message.ack());
    recv.connect();
    await waitForStatus(recv, 'connected');
    proxy.freeze();
    const closing = Date.now();
    await conn.close();
    expect(recv.status).toBe('closed');
    expect(Date.now() - closing).toBeLessThan(5000);
  }, 20_000);
});
