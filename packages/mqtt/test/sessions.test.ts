import { waitForStatus } from '@mq/core';
import { uniqueId } from '@mq/testkit';
import { describe, expect, it } from 'vitest';
import { MqttQueue } from '../src/index.js';
import { connection, queueName, receiver, sendAll, sender, until } from './helpers.js';

// Persistent sessions on Mosquitto: a fixed clientId with cleanSession false keeps the subscription and every
// unacked or missed QoS 1 message while the receiver is away.
describe.each([5, 4] as const)('persistent sessions (protocolVersion %i)', (protocolVersion) => {
  const persistent = (clientId: string) => ({ clientId, cleanSession: false, protocolVersion });

  it('a receiver whose process restarts gets, with the same clientId, what was sent while it was away', async () => {
    const name = queueName('away');
    const clientId = uniqueId('away');
    const first = await connection(persistent(clientId));
    await receiver(first, { name, reliable: true });
    await first.close();
    const send = await sender(await connection(), { name, reliable: true });
    const items = ['a0', 'a1', 'a2', 'a3', 'a4'];
    await sendAll(send, items);
    const back = await connection(persistent(clientId));
    expect(back.sessionPresent).toBe(true);
    const { inbox } = await receiver(back, { name, reliable: true });
    await until(() => inbox.texts.length >= items.length, 'the messages sent while away');
    expect([...inbox.texts].sort()).toEqual(items);
  });

  it('a receiver whose link drops gets what was sent while it was disconnected', async () => {
    const name = queueName('drop');
    const conn = await connection({ ...persistent(uniqueId('drop')), reconnectMillis: 300 });
    const { queue, inbox } = await receiver(conn, { name, reliable: true });
    const send = await sender(await connection(), { name, reliable: true });
    conn.simulateDrop();
    await waitForStatus(conn, 'disconnected');
    await sendAll(send, ['d0', 'd1', 'd2']);
    await waitForStatus(queue, 'connected');
    await until(() => inbox.texts.length >= 3, 'the messages sent while disconnected');
    expect([...inbox.texts].sort()).toEqual(['d0', 'd1', 'd2']);
  });

  it('a receiver that comes back to a backlog of hundreds and acks each message at once: every ack resolves and nothing stays held', async () => {
    const name = queueName('backlog');
    const clientId = uniqueId('backlog');
    const first = await connection(persistent(clientId));
    await receiver(first, { name, reliable: true });
    await first.close();
    const send = await sender(await connection(), { name, reliable: true });
    // Far above Mosquitto's in-flight window (20), and below its queue limit (1000) for an offline session.
    const items = Array.from({ length: 347 }, (_, i) => `job-${i}`);
    await Promise.all(items.map((item) => send.sendMsg(Buffer.from(item))));
    const back = await connection(persistent(clientId));
    expect(back.sessionPresent).toBe(true);
    // The broker starts delivering the stored messages as soon as the session resumes, before the receiver
    // has subscribed again: those wait unacked on the link until the receiver opens, then must be ackable.
    const acked = new Set<string>();
    const failures: unknown[] = [];
    const queue = new MqttQueue({ name, reliable: true, isRecv: true }, back);
    queue.on('error', (error) => failures.push(error));
    queue.setMsgHandler((_q, message) => {
      const text = message.payload.toString();
      message.ack().then(
        () => acked.add(text),
        (error: unknown) => failures.push(error),
      );
    });
    queue.connect();
    await until(() => items.every((item) => acked.has(item)) || failures.length > 0, 'every job acked');
    expect(failures).toEqual([]);
    await queue.close();
    await back.close();
    // Nothing was left for the session: a marker sent now is the only thing it gets.
    const again = await connection(persistent(clientId));
    const { inbox } = await receiver(again, { name, reliable: true });
    await sendAll(send, ['marker']);
    await until(() => inbox.texts.includes('marker'), 'the marker');
    expect(inbox.texts).toEqual(['marker']);
  });

  it('an unacked message comes again when the receiver crashes and its clientId comes back', async () => {
    const name = queueName('crash');
    const clientId = uniqueId('crash');
    const first = await connection(persistent(clientId));
    const { inbox: never } = await receiver(first, { name, reliable: true }, 'none');
    const send = await sender(await connection(), { name, reliable: true });
    await sendAll(send, ['fragile']);
    await until(() => never.texts.length === 1, 'the first delivery');
    first.simulateDrop();
    await first.close();
    const back = await connection(persistent(clientId));
    const { inbox } = await receiver(back, { name, reliable: true });
    await until(() => inbox.texts.includes('fragile'), 'the redelivery');
    await sendAll(send, ['next']);
    await until(() => inbox.texts.includes('next'), 'a later message');
    expect(inbox.texts).toEqual(['fragile', 'next']);
  });
});

describe('clean sessions', () => {
  it('Mosquitto sends an MQTT 3.1.1 client at most 20 unacked QoS 1 messages', async () => {
    const name = queueName('window');
    const conn = await connection({ protocolVersion: 4 });
    const { inbox } = await receiver(conn, { name, reliable: true }, 'none');
    const { inbox: probe } = await receiver(conn, { name: `${name}.probe` });
    const send = await sender(await connection(), { name, reliable: true });
    await sendAll(
      send,
      Array.from({ length: 30 }, (_, i) => `w${i}`),
    );
    await sendAll(await sender(conn, { name: `${name}.probe` }), ['probe']);
    await until(() => probe.texts.length === 1 && inbox.texts.length >= 20, 'the probe and the window');
    expect(inbox.texts.length).toBe(20);
    for (const message of inbox.messages.slice(0, 20)) await message.ack();
    await until(() => inbox.texts.length === 30, 'the rest after the acks');
    for (const message of inbox.messages.slice(20)) await message.ack();
  });

  it('an unacked message is not offered to another receiver when its receiver closes (redeliverUnacked false)', async () => {
    const name = queueName('clean');
    const send = await sender(await connection(), { name, reliable: true });
    const first = await receiver(await connection(), { name, reliable: true }, 'none');
    await sendAll(send, ['held']);
    await until(() => first.inbox.texts.length === 1, 'the first delivery');
    await first.queue.close();
    const second = await receiver(await connection(), { name, reliable: true });
    await sendAll(send, ['marker']);
    await until(() => second.inbox.texts.includes('marker'), 'the marker');
    expect(second.inbox.texts).toEqual(['marker']);
  });
});
