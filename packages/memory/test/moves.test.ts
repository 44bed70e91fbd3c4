import { type MqError, waitForStatus } from '@mq/core';
import { describe, expect, it } from 'vitest';
import { MemoryConnection, MemoryQueue, type MemoryQueueOptions } from '../src/index.js';

// @mq/memory declares movesExactlyOnce: a retried or dead-lettered message is moved once, also when its link
// drops between the copy and the ack of the original. These tests drop the link at exactly that moment.
let counter = 0;

/** Where a drop lands: right after the copy is stored (DEAD_LETTERED is reported between the copy and the ack), or in the microtask after the failure was reported. */
type DropAt = 'dead-lettered' | 'after-handler-failed';

interface Setup {
  conn: MemoryConnection;
  receiver: MemoryQueue;
  send: MemoryQueue;
  errors: MqError[];
  drops: number;
  cleanup(): Promise<void>;
}

async function setup(options: Omit<MemoryQueueOptions, 'name' | 'isRecv'>, dropAt: DropAt): Promise<Setup> {
  counter += 1;
  const uri = `memory://moves-${counter}`;
  const name = `jobs-${counter}`;
  const conn = new MemoryConnection({ uri, reconnectMillis: 20 });
  const other = new MemoryConnection({ uri });
  conn.connect();
  other.connect();
  const receiver = new MemoryQueue({ name, isRecv: true, reliable: true, ...options }, conn);
  const send = new MemoryQueue({ name, isRecv: false, reliable: true }, other);
  const state: Setup = {
    conn,
    receiver,
    send,
    errors: [],
    drops: 0,
    cleanup: async () => {
      await Promise.all([conn.close(), other.close()]);
    },
  };
  receiver.on('error', (error) => {
    state.errors.push(error);
    const moment = dropAt === 'dead-lettered' ? 'DEAD_LETTERED' : 'HANDLER_FAILED';
    if (error.code !== moment || receiver.status !== 'connected') return;
    state.drops += 1;
    if (dropAt === 'dead-lettered') conn.simulateDrop();
    // The repro of issue 33: the copy is stored synchronously after the report, its confirmation is awaited in
    // a microtask, and this one comes first.
    else queueMicrotask(() => conn.simulateDrop());
  });
  send.connect();
  await waitForStatus(send, 'connected');
  return state;
}

/** A receiver of `name` on `conn` that records what it gets and acks it. */
async function collect(conn: MemoryConnection, name: string): Promise<{ got: string[]; queue: MemoryQueue }> {
  const got: string[] = [];
  const queue = new MemoryQueue({ name, isRecv: true, reliable: true }, conn);
  queue.setMsgHandler((_q, message) => {
    got.push(message.payload.toString());
    return message.ack();
  });
  queue.connect();
  await waitForStatus(queue, 'connected');
  return { got, queue };
}

async function until(predicate: () => boolean, what: string, millis = 5000): Promise<void> {
  const deadline = Date.now() + millis;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const quiet = (millis = 300): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis));

describe('a move is exactly once when the link drops between the copy and the ack of the original', () => {
  for (const dropAt of ['dead-lettered', 'after-handler-failed'] as const) {
    it(`each dead letter is stored once (link dropped ${dropAt === 'dead-lettered' ? 'as DEAD_LETTERED is reported' : 'in the microtask after HANDLER_FAILED'})`, async () => {
      const dead = `dead-${counter + 1}`;
      const s = await setup({ maxDeliveries: 1, deadLetter: dead, retryDelayMillis: 0 }, dropAt);
      s.receiver.setMsgHandler(() => {
        throw new Error('always fails');
      });
      s.receiver.connect();
      const dlqConn = new MemoryConnection({ uri: `memory://moves-${counter}` });
      dlqConn.connect();
      const dlq = await collect(dlqConn, dead);
      const items = Array.from({ length: 5 }, (_, i) => `poison-${i}`);
      // One at a time, so that the link drops at that moment for each of them.
      for (const item of items) {
        await waitForStatus(s.receiver, 'connected');
        await s.send.sendMsg(Buffer.from(item));
        await until(() => dlq.got.includes(item), `the dead letter of ${item}`);
      }
      await quiet();
      expect(s.drops).toBe(items.length);
      expect([...dlq.got].sort()).toEqual(items);
      await dlqConn.close();
      await s.cleanup();
    });
  }

  it('a retried message is handled once more, not twice (link dropped in the microtask after HANDLER_FAILED)', async () => {
    // No DEAD_LETTERED on a retry: the microtask after HANDLER_FAILED is the moment between copy and ack.
    const s = await setup({ retryDelayMillis: 0 }, 'after-handler-failed');
    const runs = new Map<string, number>();
    s.receiver.setMsgHandler((_q, message) => {
      const text = message.payload.toString();
      runs.set(text, (runs.get(text) ?? 0) + 1);
      if (runs.get(text) === 1) throw new Error('first try fails');
      return message.ack();
    });
    s.receiver.connect();
    const items = Array.from({ length: 5 }, (_, i) => `job-${i}`);
    for (const item of items) {
      await waitForStatus(s.receiver, 'connected');
      await s.send.sendMsg(Buffer.from(item));
      await until(() => runs.get(item) === 2, `the retry of ${item}`);
    }
    await quiet();
    expect(s.drops).toBe(items.length);
    expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(items.map((item) => [item, 2])));
    await s.cleanup();
  });
});
