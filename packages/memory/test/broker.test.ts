import { waitForStatus } from '@mq/core';
import { describe, expect, it } from 'vitest';
import { MemoryBroker, MemoryConnection, MemoryQueue } from '../src/index.js';

function brokerName(): string {
  return `unit-${Math.random().toString(36).slice(2, 10)}`;
}

describe('MemoryQueue', () => {
  it('throws INVALID_OPTIONS at once when given something other than a MemoryConnection', () => {
    for (const notOurs of [{}, undefined, null]) {
      expect(() => new MemoryQueue({ name: 'q', isRecv: false }, notOurs as never)).toThrow(
        /^\[mq\/memory\] connection must be a MemoryConnection made by this backend, got /,
      );
    }
  });
});

describe('MemoryBroker', () => {
  it('keeps unicast messages while no receiver exists and reports the depth', async () => {
    const name = brokerName();
    const conn = new MemoryConnection({ uri: `memory://${name}` });
    conn.connect();
    const send = new MemoryQueue({ name: 'jobs', isRecv: false }, conn);
    send.connect();
    await waitForStatus(send, 'connected');
    await send.sendMsg(Buffer.from('a'));
    await send.sendMsg(Buffer.from('b'));
    expect(MemoryBroker.named(name).depth('jobs')).toBe(2);
    await conn.close();
  });

  it('puts messages handed back (nacked together, in any order) back where they were, ahead of the later ones', async () => {
    const name = brokerName();
    const conn = new MemoryConnection({ uri: `memory://${name}` });
    conn.connect();
    const send = new MemoryQueue({ name: 'jobs', isRecv: false }, conn);
    const receiver = new MemoryQueue({ name: 'jobs', isRecv: true, prefetch: 4 }, conn);
    const held: Array<{ text: string; nack(): Promise<void> }> = [];
    const again: string[] = [];
    receiver.setMsgHandler((_q, message) => {
      const text = message.payload.toString();
      if (message.redelivered || held.length === 4) {
        again.push(text);
        return message.ack();
      }
      held.push({ text, nack: () => message.nack() });
      return undefined;
    });
    send.connect();
    receiver.connect();
    await waitForStatus(send, 'connected');
    for (const text of ['a', 'b', 'c', 'd', 'e', 'f']) await send.sendMsg(Buffer.from(text));
    await new Promise<void>((resolve) => {
      const wait = (): void => void (held.length === 4 ? resolve() : setTimeout(wait, 5));
      wait();
    });
    // In an order of their own: c, a, d, b.
    await Promise.all([2, 0, 3, 1].map((i) => held[i]!.nack()));
    await new Promise<void>((resolve) => {
      const wait = (): void => void (again.length === 6 ? resolve() : setTimeout(wait, 5));
      wait();
    });
    expect(again).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    await conn.close();
  });

  it('a stopped broker refuses connections until started again', async () => {
    const broker = MemoryBroker.named(brokerName());
    broker.stop();
    const conn = new MemoryConnection({ uri: `memory://${broker.name}`, reconnectMillis: 10 });
    const errors: string[] = [];
    conn.on('error', (error) => errors.push(error.code));
    conn.connect();
    await waitForStatus(conn, 'disconnected');
    expect(errors[0]).toBe('BROKER');
    broker.start();
    await waitForStatus(conn, 'connected');
    await conn.close();
  });

  it('stopping the broker drops live connections, which come back after start()', async () => {
    const broker = MemoryBroker.named(brokerName());
    const conn = new MemoryConnection({ uri: `memory://${broker.name}`, reconnectMillis: 10 });
    conn.connect();
    await waitForStatus(conn, 'connected');
    broker.stop();
    expect(conn.status).toBe('disconnected');
    broker.start();
    await waitForStatus(conn, 'connected');
    await conn.close();
  });
});
