import { randomUUID } from 'node:crypto';
import { MqError, waitForStatus } from '@mq/core';
import { MemoryBroker, MemoryConnection, MemoryQueue } from '@mq/memory';
import { describe, expect, it } from 'vitest';

describe('an app on @mq/memory', () => {
  it('sees sends rejected while its broker is down, and keeps what was sent before', async () => {
    const broker = MemoryBroker.named(randomUUID()); // one broker per test: nothing leaks between tests
    const conn = new MemoryConnection({ uri: `memory://${broker.name}`, reconnectMillis: 10 });
    conn.connect();
    const orders = new MemoryQueue({ name: 'orders', isRecv: false, reliable: true }, conn);
    orders.connect();
    await waitForStatus(orders, 'connected');
    await orders.sendMsg(Buffer.from('order-1'));

    broker.stop(); // every connection drops, as when a real broker restarts
    await waitForStatus(orders, 'disconnected');
    const refused = await orders.sendMsg(Buffer.from('order-2')).catch((error: unknown) => error);
    expect(MqError.hasCode(refused, 'NOT_CONNECTED')).toBe(true);

    broker.start(); // the connection and its queues come back by themselves
    await waitForStatus(orders, 'connected');
    expect(broker.depth('orders')).toBe(1); // order-1 waits for a receiver
    await conn.close();
  });
});
