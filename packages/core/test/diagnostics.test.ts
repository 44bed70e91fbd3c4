import { afterEach, describe, expect, it } from 'vitest';
import { SEND_CHANNEL, type SendTrace } from '../src/spi/index.js';
import { flush, ScriptedConnection, ScriptedQueue, TEST_TRAITS } from './fixtures.js';

const subscriptions: Array<() => void> = [];
afterEach(() => {
  for (const off of subscriptions.splice(0)) off();
});

async function connectedSender(): Promise<{ conn: ScriptedConnection; queue: ScriptedQueue }> {
  const conn = new ScriptedConnection();
  conn.connect();
  conn.lastOpen.resolve();
  await flush();
  const queue = new ScriptedQueue(conn);
  queue.connect();
  queue.lastOpen.resolve();
  await flush();
  return { conn, queue };
}

describe('mq:send', () => {
  it('with no subscriber the backend gets the options as checked (nothing is built for tracing)', async () => {
    const { conn, queue } = await connectedSender();
    const sending = queue.sendMsg(Buffer.from('x'));
    queue.sends[0]?.resolve();
    await sending;
    expect(queue.sentOptions).toEqual([undefined]);
    await conn.close();
  });

  it('headers a subscriber adds are dropped for a backend that carries no metadata, and the send still goes', async () => {
    const seen: SendTrace[] = [];
    const handlers = {
      start: (context: SendTrace) => {
        seen.push(context);
        context.options.headers.traceparent = '00-x';
      },
    };
    SEND_CHANNEL.subscribe(handlers as never);
    subscriptions.push(() => SEND_CHANNEL.unsubscribe(handlers as never));
    const { conn, queue } = await connectedSender();
    const sending = queue.sendMsg(Buffer.from('x'));
    queue.sends[0]?.resolve();
    await sending;
    expect(seen[0]?.carriesMetadata).toBe(false);
    expect(queue.sentOptions).toEqual([undefined]);
    await conn.close();
  });

  it("headers a subscriber adds that break the rules are dropped: the send goes with the app's own options", async () => {
    const handlers = {
      start: (context: SendTrace) => {
        context.options.headers['mq-bad'] = 'x';
      },
    };
    SEND_CHANNEL.subscribe(handlers as never);
    subscriptions.push(() => SEND_CHANNEL.unsubscribe(handlers as never));
    const conn = new ScriptedConnection();
    conn.connect();
    conn.lastOpen.resolve();
    await flush();
    const queue = new ScriptedQueue(conn, {}, { ...TEST_TRAITS, metadata: true });
    queue.connect();
    queue.lastOpen.resolve();
    await flush();
    const sending = queue.sendMsg(Buffer.from('x'), { headers: { app: '1' } });
    queue.sends[0]?.resolve();
    await sending;
    expect(queue.sentOptions[0]?.headers).toEqual({ app: '1' });
    await conn.close();
  });
});
