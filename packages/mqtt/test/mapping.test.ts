import { mqttTestUrl, uniqueId } from '@mq/testkit';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connection, type Inbox, queueName, receiver, sendAll, sender, until } from './helpers.js';

const raw: MqttClient[] = [];
afterEach(async () => {
  for (const client of raw.splice(0)) await client.endAsync(true);
});

async function rawClient(): Promise<MqttClient> {
  const client = await connectAsync(mqttTestUrl(), { clientId: uniqueId('raw'), reconnectPeriod: 0 });
  client.on('error', () => {});
  raw.push(client);
  return client;
}

async function threeReceivers(name: string, sharedPrefix?: string): Promise<Inbox[]> {
  const inboxes: Inbox[] = [];
  for (let i = 0; i < 3; i += 1) {
    const options = sharedPrefix === undefined ? { name } : { name, sharedPrefix };
    inboxes.push((await receiver(await connection(), { ...options, reliable: true })).inbox);
  }
  return inboxes;
}

describe('unicast over shared subscriptions', () => {
  it.each([
    ['the default group', undefined],
    ['a general-mq group', '$share/general-mq/'],
  ])('with %s, three receivers share the messages: each arrives exactly once', async (_, prefix) => {
    const name = queueName('share');
    const inboxes = await threeReceivers(name, prefix);
    const send = await sender(await connection(), { name, reliable: true });
    const items = Array.from({ length: 30 }, (_, i) => `u${i}`);
    await sendAll(send, items);
    const all = (): string[] => inboxes.flatMap((inbox) => inbox.texts);
    await until(() => all().length >= items.length, 'every message');
    expect(all().sort()).toEqual([...items].sort());
    // Mosquitto hands shared-subscription messages out round-robin.
    for (const inbox of inboxes) expect(inbox.texts.length).toBe(10);
  });

  it('with sharedPrefix "" (brokers without shared subscriptions) every receiver gets every message', async () => {
    const name = queueName('plain');
    const inboxes = await threeReceivers(name, '');
    const send = await sender(await connection(), { name, reliable: true });
    await sendAll(send, ['p0', 'p1']);
    for (const inbox of inboxes) await until(() => inbox.texts.length === 2, 'both messages');
  });
});

describe('the wire mapping is the same as general-mq', () => {
  it('a reliable sender publishes QoS 1 to the topic named like the queue; best effort publishes QoS 0', async () => {
    const name = queueName('wire');
    const client = await rawClient();
    const seen: Array<{ topic: string; qos: number; text: string }> = [];
    client.on('message', (topic, payload, packet) =>
      seen.push({ topic, qos: packet.qos, text: payload.toString() }),
    );
    await client.subscribeAsync(name, { qos: 1 });
    const conn = await connection();
    await sendAll(await sender(conn, { name, reliable: true }), ['reliable']);
    await sendAll(await sender(conn, { name: `${name}.x`, reliable: false }), ['ignored']);
    await sendAll(await sender(conn, { name }), ['best-effort']);
    await until(() => seen.length === 2, 'two messages');
    expect(seen).toEqual([
      { topic: name, qos: 1, text: 'reliable' },
      { topic: name, qos: 0, text: 'best-effort' },
    ]);
  });

  it('a unicast receiver subscribes to $share/mq/<name>, a broadcast receiver to <name>', async () => {
    const name = queueName('sub');
    const client = await rawClient();
    const conn = await connection();
    const { inbox: fan } = await receiver(conn, { name, broadcast: true, reliable: true });
    const { inbox: uni } = await receiver(await connection(), { name, reliable: true });
    // A plain MQTT publisher (such as a general-mq app) reaches both.
    await client.publishAsync(name, 'from raw', { qos: 1 });
    await until(() => fan.texts.length === 1 && uni.texts.length === 1, 'both receivers');
    // The raw client joins the default unicast group and takes every other message from now on.
    const shared: string[] = [];
    client.on('message', (_topic, payload) => shared.push(payload.toString()));
    await client.subscribeAsync(`$share/mq/${name}`, { qos: 1 });
    await sendAll(await sender(conn, { name, reliable: true }), ['s0', 's1', 's2', 's3']);
    await until(() => shared.length + uni.texts.length === 5, 'the group to share four messages');
    expect(shared.length).toBe(2);
  });
});

describe('one connection, many queues', () => {
  it('a second receiver of the same name on one connection is refused with UNSUPPORTED, and allowed once the first closes', async () => {
    const name = queueName('twice');
    const conn = await connection();
    const first = await receiver(conn, { name });
    await expect(receiver(conn, { name, broadcast: true })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await first.queue.close();
    const second = await receiver(conn, { name, broadcast: true });
    await sendAll(await sender(conn, { name }), ['again']);
    await until(() => second.inbox.texts.length === 1, 'the message');
  });

  it('messages go only to the receiver of their topic, never to senders or other receivers on the connection', async () => {
    const conn = await connection();
    const names = [queueName('a'), queueName('b')];
    const a = await receiver(conn, { name: names[0]!, reliable: true });
    const b = await receiver(conn, { name: names[1]!, broadcast: true });
    const sendA = await sender(conn, { name: names[0]!, reliable: true });
    const sendB = await sender(conn, { name: names[1]!, broadcast: true });
    await sendAll(sendA, ['a0', 'a1']);
    await sendAll(sendB, ['b0', 'b1']);
    await until(() => a.inbox.texts.length === 2 && b.inbox.texts.length === 2, 'both pairs');
    expect(a.inbox.texts).toEqual(['a0', 'a1']);
    expect(b.inbox.texts).toEqual(['b0', 'b1']);
  });
});
