import { MqError, waitForStatus } from '@mq/core';
import { describe, expect, it } from 'vitest';
import { MemoryConnection, MemoryQueue } from '../src/index.js';

// queue.messages() beyond the contract: the iterator's edges, through the in-process broker.
let counter = 0;

async function setup(): Promise<{ conn: MemoryConnection; name: string; send: MemoryQueue }> {
  counter += 1;
  const conn = new MemoryConnection({ uri: `memory://messages-${counter}` });
  conn.connect();
  const name = `jobs-${counter}`;
  const send = new MemoryQueue({ name, isRecv: false, reliable: true }, conn);
  send.connect();
  await waitForStatus(send, 'connected');
  return { conn, name, send };
}

describe('messages()', () => {
  it('answers next() calls made before any message arrives in call order, one message each', async () => {
    const { conn, name, send } = await setup();
    const receiver = new MemoryQueue({ name, isRecv: true, reliable: true }, conn);
    const iterator = receiver.messages();
    const first = iterator.next();
    const second = iterator.next();
    await waitForStatus(receiver, 'connected');
    await send.sendMsg(Buffer.from('a'));
    await send.sendMsg(Buffer.from('b'));
    const [a, b] = await Promise.all([first, second]);
    expect(a.done || b.done).toBe(false);
    expect([a.value?.payload.toString(), b.value?.payload.toString()]).toEqual(['a', 'b']);
    await Promise.all([a.value?.ack(), b.value?.ack()]);
    // A next() still waiting when the receiver closes ends as done.
    const third = iterator.next();
    await receiver.close();
    expect(await third).toEqual({ value: undefined, done: true });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    await conn.close();
  });

  it('with a signal already aborted, throws ABORTED at once, connects nothing and leaves the receiver free', async () => {
    const { conn, name, send } = await setup();
    const receiver = new MemoryQueue(
      { name, isRecv: true, reliable: true, ackTimeoutMillis: 100, retryDelayMillis: 0 },
      conn,
    );
    const iterator = receiver.messages({ signal: AbortSignal.abort(new Error('shutting down')) });
    const error = await iterator.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(MqError.hasCode(error, 'ABORTED')).toBe(true);
    expect((error as Error).cause).toEqual(new Error('shutting down'));
    expect(receiver.status).toBe('closed');
    // Free: a handler (or another loop) may take it, with the receiver's ack deadline as usual.
    const errors: MqError[] = [];
    receiver.on('error', (e) => errors.push(e));
    let runs = 0;
    receiver.setMsgHandler(async (_q, message) => {
      runs += 1;
      if (runs > 1) await message.ack(); // the first delivery is forgotten, and its deadline retries it
    });
    receiver.connect();
    await waitForStatus(receiver, 'connected');
    await send.sendMsg(Buffer.from('job'));
    const deadline = Date.now() + 5000;
    while (runs < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runs).toBe(2);
    expect(errors.map((e) => e.code)).toEqual(['HANDLER_FAILED']);
    await conn.close();
  });

  it('starts the ack deadline when the loop takes a message, not while it waits in the buffer', async () => {
    const { conn, name, send } = await setup();
    const receiver = new MemoryQueue(
      { name, isRecv: true, reliable: true, prefetch: 5, ackTimeoutMillis: 200, retryDelayMillis: 0 },
      conn,
    );
    const errors: MqError[] = [];
    receiver.on('error', (error) => errors.push(error));
    const iterator = receiver.messages();
    await waitForStatus(receiver, 'connected');
    for (const job of ['a', 'b', 'c']) await send.sendMsg(Buffer.from(job));
    // The loop is slow: each message waits in the buffer longer than the deadline before it is taken.
    const seen: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const next = await iterator.next();
      seen.push(next.value?.payload.toString() ?? '');
      await next.value?.ack();
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(errors).toEqual([]);
    await iterator.return?.();
    await conn.close();
  });
});
