import { randomUUID } from 'node:crypto';
import { MqError, waitForStatus } from '@mq/core';
import { MemoryBroker, MemoryConnection, MemoryQueue } from '@mq/memory';
import { describe, expect, it } from 'vitest';

describe('an app on @mq/memory', () => {
  it('sees a send made while its broker is down wait for it, and keeps what was sent before', async () => {
    const broker = MemoryBroker.named(randomUUID()); // one broker per test: nothing leaks between tests
    const conn = new MemoryConnection({ uri: `memory://${broker.name}`, reconnectMillis: 10 });
    conn.connect();
    const orders = new MemoryQueue({ name: 'orders', isRecv: false, reliable: true }, conn);
    orders.connect();
    await waitForStatus(orders, 'connected');
    await orders.sendMsg(Buffer.from('order-1'));

    broker.stop(); // every connection drops, as when a real broker restarts
    await waitForStatus(orders, 'disconnected');
    // Waits for the link, at most sendTimeoutMillis (then TIMEOUT: it was never sent).
    const waiting = orders.sendMsg(Buffer.from('order-2'));

    broker.start(); // the connection and its queues come back by themselves
    await waiting;
    expect(broker.depth('orders')).toBe(2); // order-1 and order-2 wait for a receiver
    await expect(orders.close()).resolves.toBeUndefined();
    const closed = await orders.sendMsg(Buffer.from('order-3')).catch((error: unknown) => error);
    expect(MqError.hasCode(closed, 'NOT_CONNECTED')).toBe(true); // a closed queue never waits
    await conn.close();
  });
});
