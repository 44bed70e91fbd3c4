import { type MqError, waitForStatus } from '@mq/core';
import { mqttTestUrl, TcpProxy, uniqueId } from '@mq/testkit';
import { describe, expect, it } from 'vitest';
import type { MqttConnection } from '../src/index.js';
import { connection, queueName, receiver, sendAll, sender, sendUnreceived, until } from './helpers.js';

const texts = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

function connectionErrors(conn: MqttConnection): MqError[] {
  const errors: MqError[] = [];
  conn.on('error', (error) => errors.push(error));
  return errors;
}

/** The number of messages each "acked and dropped" report counts. */
function droppedCounts(errors: readonly MqError[], topic: string): number[] {
  return errors
    .filter((error) => error.code === 'BROKER' && error.message.includes(`'${topic}'`))
    .map((error) => Number(/(\d+) message/.exec(error.message)?.[1]));
}

/**
 * Closes a receiver on `conn`, sends while no receiver is open, then opens another on the same connection: the
 * closed one unsubscribed, so the new one gets only what was sent after it opened.
 */
async function expectReopenedReceiverGetsOnlyNew(conn: MqttConnection): Promise<void> {
  const name = queueName('reopen');
  const first = await receiver(conn, { name, reliable: true });
  await first.queue.close();
  const send = await sender(await connection(), { name, reliable: true });
  await sendUnreceived(send, ['gone']);
  const second = await receiver(conn, { name, reliable: true });
  await sendAll(send, ['kept']);
  await until(() => second.inbox.texts.includes('kept'), 'the new message');
  expect(second.inbox.texts).toEqual(['kept']);
}

describe.each([5, 4] as const)(
  'closing a receiver queue on a persistent session (protocolVersion %i)',
  (protocolVersion) => {
    const persistent = (part: string) => ({ clientId: uniqueId(part), cleanSession: false, protocolVersion });

    it('unsubscribes, so messages sent to it never fill the in-flight window the other receivers need', async () => {
      const a = queueName('a');
      const b = queueName('b');
      const conn = await connection(persistent('window'));
      const first = await receiver(conn, { name: a, reliable: true });
      const other = await receiver(conn, { name: b, reliable: true });
      await first.queue.close();
      const send = await connection();
      await sendUnreceived(await sender(send, { name: a, reliable: true }), texts('a', 25));
      await sendAll(await sender(send, { name: b, reliable: true }), ['for-b']);
      await until(() => other.inbox.texts.includes('for-b'), 'the message for the other receiver', 3000);
      expect(first.inbox.texts).toEqual([]);
    });

    it('stops taking its share of a shared subscription: the rest of the group gets every message', async () => {
      const name = queueName('group');
      const closing = await receiver(await connection(persistent('group')), { name, reliable: true });
      const staying = await receiver(await connection(), { name, reliable: true });
      await closing.queue.close();
      const items = texts('g', 10);
      await sendAll(await sender(await connection(), { name, reliable: true }), items);
      await until(
        () => staying.inbox.texts.length === items.length,
        'every message at the remaining member',
        3000,
      );
      expect(staying.inbox.texts).toEqual(items);
    });

    it('a receiver reopened on the same connection gets only what was sent after it reopened', async () => {
      await expectReopenedReceiverGetsOnlyNew(await connection(persistent('reopen')));
    });

    it('keeps what the broker still sends for it after the close unacked for the session (never acks it), reports it once, and the others keep flowing', async () => {
      const a = queueName('late');
      const b = queueName('other');
      const conn = await connection(persistent('late'));
      const errors = connectionErrors(conn);
      const held = await receiver(conn, { name: a, reliable: true }, 'none');
      const other = await receiver(conn, { name: b, reliable: true });
      const send = await connection();
      // Mosquitto sends 20 unacked messages at a time: the other 10 wait in its queue for this session.
      await sendAll(await sender(send, { name: a, reliable: true }), texts('late', 30));
      await until(() => held.inbox.texts.length === 20, 'a full in-flight window');
      await held.queue.close();
      // Acking after the close frees the window: the broker then sends the 10 it had queued for this session,
      // which stay unacked (10 of the 20 places), so the other receiver still has room.
      for (const message of held.inbox.messages) await message.ack();
      await until(() => droppedCounts(errors, a).length > 0, 'the report of the late messages', 3000);
      expect(droppedCounts(errors, a)).toEqual([10]);
      expect(errors.find((error) => error.message.includes(`'${a}'`))?.message).toContain('kept unacked');
      expect(held.inbox.texts).toHaveLength(20);
      await sendAll(await sender(send, { name: b, reliable: true }), ['for-b']);
      await until(() => other.inbox.texts.includes('for-b'), 'the message for the other receiver', 3000);
    });

    it('closed while its link is down, it drops the subscription on the next link and keeps what the session kept unacked', async () => {
      const a = queueName('away');
      const b = queueName('stays');
      const conn = await connection({ ...persistent('away'), reconnectMillis: 300 });
      const errors = connectionErrors(conn);
      const gone = await receiver(conn, { name: a, reliable: true });
      const other = await receiver(conn, { name: b, reliable: true });
      conn.simulateDrop();
      await waitForStatus(conn, 'disconnected');
      await gone.queue.close();
      const send = await connection();
      // Fewer than the 20 places of the window: kept unacked, more would stall the other receiver.
      await sendAll(await sender(send, { name: a, reliable: true }), texts('away', 10));
      await waitForStatus(other.queue, 'connected');
      await until(
        () => droppedCounts(errors, a).reduce((sum, n) => sum + n, 0) === 10,
        'the 10 kept messages reported',
        3000,
      );
      await sendAll(await sender(send, { name: b, reliable: true }), ['for-b']);
      await until(() => other.inbox.texts.includes('for-b'), 'the message for the other receiver', 3000);
      expect(gone.inbox.texts).toEqual([]);
    });
  },
);

describe('closing a unicast receiver on a clean session', () => {
  it('unsubscribes: a new receiver on the same connection gets only new messages', async () => {
    await expectReopenedReceiverGetsOnlyNew(await connection());
  });

  it('handles what the broker had already assigned to it before close() resolves, so nothing is lost', async () => {
    const name = queueName('drain');
    const conn = await connection();
    const errors = connectionErrors(conn);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const closing = await receiver(conn, { name, reliable: true }, (message) =>
      gate.then(() => message.ack()),
    );
    const staying = await receiver(await connection(), { name, reliable: true });
    const items = texts('d', 200);
    const send = await sender(await connection(), { name, reliable: true });
    await Promise.all(items.map((text) => send.sendMsg(Buffer.from(text))));
    // Its window is full (20 unacked) and the broker has queued more of its round-robin share behind them.
    await until(() => closing.inbox.texts.length === 20, 'a full in-flight window');
    const closed = closing.queue.close();
    release();
    await closed;
    await until(
      () => closing.inbox.texts.length + staying.inbox.texts.length >= items.length,
      'every message at one of the two receivers',
      5000,
    );
    expect([...closing.inbox.texts, ...staying.inbox.texts].sort()).toEqual([...items].sort());
    expect(closing.inbox.texts.length).toBeGreaterThan(20);
    expect(errors).toEqual([]);
  });
});

describe('closing a receiver whose UNSUBSCRIBE gets no answer (clean session)', () => {
  it('hands the topic to the connection, which settles the late messages, so the other receivers keep flowing', async () => {
    const broker = new URL(mqttTestUrl());
    const proxy = await TcpProxy.start({ host: broker.hostname, port: Number(broker.port || 1883) });
    try {
      const conn = await connection({
        uri: `mqtt://127.0.0.1:${proxy.port}`,
        keepaliveSeconds: 0,
        connectTimeoutMillis: 1000,
      });
      const errors = connectionErrors(conn);
      const closing = await receiver(conn, { name: queueName('t'), reliable: true });
      const other = await receiver(conn, { name: queueName('u'), reliable: true });
      const send = await connection();
      const toClosing = await sender(send, { name: closing.queue.name, reliable: true });
      const toOther = await sender(send, { name: other.queue.name, reliable: true });
      proxy.freeze();
      const closed = closing.queue.close();
      await sendAll(toClosing, texts('t', 30));
      await closed;
      expect(closing.inbox.errors.map((e) => e.code)).toContain('TIMEOUT');
      proxy.thaw();
      await until(
        () => droppedCounts(errors, closing.queue.name).reduce((a, b) => a + b, 0) === 30,
        'the late messages settled',
      );
      await sendAll(toOther, ['for-other']);
      await until(() => other.inbox.texts.includes('for-other'), 'the message for the other receiver', 5000);
    } finally {
      await proxy.close();
    }
  }, 20_000);
});

describe('nack while a receiver closes', () => {
  it('settles the message (MQTT cannot hand it back) and rejects with ACK_FAILED, so the others keep flowing', async () => {
    const conn = await connection();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const nackOutcomes: string[] = [];
    const closing = await receiver(conn, { name: queueName('n'), reliable: true }, async (message) => {
      await gate;
      await message.nack().then(
        () => nackOutcomes.push('resolved'),
        (error: MqError) => nackOutcomes.push(error.code),
      );
    });
    const other = await receiver(conn, { name: queueName('o'), reliable: true });
    const send = await connection();
    // Mosquitto allows 20 unacked messages in flight to this connection: fill the window with held handlers.
    await sendAll(await sender(send, { name: closing.queue.name, reliable: true }), texts('n', 20));
    await until(() => closing.inbox.texts.length === 20, 'a full in-flight window of held handlers');
    const closed = closing.queue.close();
    release();
    await closed;
    expect(nackOutcomes.length).toBeGreaterThan(0);
    expect(nackOutcomes.every((outcome) => outcome === 'ACK_FAILED')).toBe(true);
    await sendAll(await sender(send, { name: other.queue.name, reliable: true }), ['for-other']);
    await until(() => other.inbox.texts.includes('for-other'), 'the message for the other receiver', 5000);
  }, 20_000);

  it('a nack after close() resolved (the handler outlived the close) still settles the message, so the connection never stalls', async () => {
    // One in-flight message per connection: a single message held unacked would stall every receiver on it.
    const conn = await connection({ protocolVersion: 5, receiveMaximum: 1, connectTimeoutMillis: 500 });
    const name = queueName('late');
    let closing = false;
    const late: string[] = [];
    const closingQueue = await receiver(conn, { name, reliable: true }, async (message, text) => {
      if (!closing) {
        // Slow enough that the broker still has messages queued for this session when close() starts.
        await new Promise((resolve) => setTimeout(resolve, 100));
        await message.ack();
        return;
      }
      // Delivered during close(): outlive its drain (connectTimeoutMillis), then nack.
      await new Promise((resolve) => setTimeout(resolve, 800));
      await message.nack().then(
        () => late.push(`${text} resolved`),
        (error: MqError) => late.push(`${text} ${error.code}`),
      );
    });
    const send = await sender(await connection(), { name, reliable: true });
    await sendAll(send, texts('m', 8));
    await until(() => closingQueue.inbox.texts.length >= 1, 'the first delivery');
    closing = true;
    await closingQueue.queue.close();
    await until(() => late.length > 0, 'the late nack', 5000);
    expect(late.every((outcome) => outcome.endsWith('ACK_FAILED'))).toBe(true);
    const other = await receiver(conn, { name: queueName('after-late'), reliable: true });
    await sendAll(
      await sender(await connection(), { name: other.queue.name, reliable: true }),
      texts('o', 5),
    );
    await until(() => other.inbox.texts.length === 5, 'every message for the other receiver', 5000);
  }, 20_000);
});
