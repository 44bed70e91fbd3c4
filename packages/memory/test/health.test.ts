import { waitForStatus } from '@mq/core';
import { describe, expect, it } from 'vitest';
import { MemoryConnection, MemoryQueue } from '../src/index.js';

describe('health() on memory', () => {
  it('says a receiver is attached while its consumer is on the mailbox, and ages deliveries', async () => {
    const name = `health-${Math.random().toString(36).slice(2)}`;
    const conn = new MemoryConnection();
    conn.connect();
    await waitForStatus(conn, 'connected');
    const recv = new MemoryQueue({ name, isRecv: true, reliable: true }, conn);
    let got = 0;
    recv.setMsgHandler(async (_q, message) => {
      got += 1;
      await message.ack();
    });
    expect(recv.health()).toMatchObject({ status: 'closed', attached: false, handlersRunning: 0 });
    recv.connect();
    await waitForStatus(recv, 'connected');
    expect(recv.health()).toMatchObject({ attached: true, lastDeliveryAgeMillis: undefined });
    const send = new MemoryQueue({ name, isRecv: false, reliable: true }, conn);
    send.connect();
    await waitForStatus(send, 'connected');
    await send.sendMsg(Buffer.from('x'));
    await waitUntil(() => got === 1);
    expect(recv.health().lastDeliveryAgeMillis).toBeGreaterThanOrEqual(0);
    expect(conn.health()).toMatchObject({ status: 'connected', linkUp: true });
    expect(
      conn
        .health()
        .queues.map((queue) => queue.isRecv)
        .sort(),
    ).toEqual([false, true]);
    await conn.close();
    expect(recv.health()).toMatchObject({ status: 'closed', attached: false });
    expect(conn.health()).toMatchObject({ linkUp: false, queues: [] });
  });
});

describe('health() of sends waiting for the link', () => {
  it('counts the buffered sends and their bytes until the link is up, then none', async () => {
    const name = `health-buffer-${Math.random().toString(36).slice(2)}`;
    const conn = new MemoryConnection({ uri: `memory://${name}` });
    const send = new MemoryQueue({ name, isRecv: false, reliable: true }, conn);
    send.connect(); // its connection is not connected: sends wait for the link
    const sends = [send.sendMsg(Buffer.from('abc')), send.sendMsg(Buffer.from('de'))];
    expect(send.health()).toMatchObject({
      status: 'connecting',
      sendsBuffered: 2,
      bufferedBytes: 5,
      sendsInFlight: 0,
    });
    conn.connect();
    await Promise.all(sends);
    expect(send.health()).toMatchObject({
      status: 'connected',
      sendsBuffered: 0,
      bufferedBytes: 0,
      sendsInFlight: 0,
    });
    await conn.close();
  });
});

async function waitUntil(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
