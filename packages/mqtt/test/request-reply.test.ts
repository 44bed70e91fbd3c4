import { MqError, waitForStatus } from '@mq/core';
import { mqttTestUrl, uniqueId } from '@mq/testkit';
import { connectAsync, type IPublishPacket, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { mqttDriverOf } from '../src/connection-driver.js';
import { connection, queueName, receiver, sender, until } from './helpers.js';

// Request/reply over MQTT 5 (response topic, correlation data), with plain mqtt.js 5 on the other side, both ways.
const plainClients: MqttClient[] = [];
afterEach(async () => {
  for (const client of plainClients.splice(0)) await client.endAsync();
});

async function plain(): Promise<MqttClient> {
  const client = await connectAsync(mqttTestUrl(), {
    clientId: uniqueId('plain-rpc'),
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  plainClients.push(client);
  return client;
}

describe('request/reply on MQTT 5', () => {
  it('a plain mqtt.js 5 client with a response topic and correlation data gets its answer from an mq server', async () => {
    const name = queueName('rpc-plain-client');
    await receiver(await connection(), { name, reliable: true }, async (message, text) => {
      await message.reply(Buffer.from(`re:${text}`), {
        headers: { echoed: message.headers.asked ?? '' },
        contentType: 'text/plain',
      });
      await message.ack();
    });
    const client = await plain();
    const responseTopic = `plain/replies/${uniqueId('r')}`;
    const answers = new Map<string, IPublishPacket>();
    client.on('message', (_topic, _payload, packet) => {
      const id = packet.properties?.correlationData?.toString('utf8');
      if (id !== undefined) answers.set(id, packet);
    });
    await client.subscribeAsync(responseTopic, { qos: 1 });
    for (const id of ['a', 'b', 'c']) {
      await client.publishAsync(name, `ask-${id}`, {
        qos: 1,
        properties: {
          responseTopic,
          correlationData: Buffer.from(id),
          userProperties: { asked: id },
        },
      });
    }
    await until(() => answers.size === 3, 'three answers');
    for (const id of ['a', 'b', 'c']) {
      const answer = answers.get(id);
      expect(answer?.payload.toString()).toBe(`re:ask-${id}`);
      expect(answer?.properties?.contentType).toBe('text/plain');
      expect(answer?.properties?.userProperties).toMatchObject({ echoed: id });
    }
  });

  it('an mq client gets the answer of a plain mqtt.js 5 server that publishes to the response topic with the correlation data', async () => {
    const name = queueName('rpc-plain-server');
    const server = await plain();
    server.on('message', (_topic, payload, packet) => {
      const { responseTopic, correlationData, userProperties } = packet.properties ?? {};
      if (responseTopic === undefined) return;
      void server.publishAsync(responseTopic, `plain:${payload.toString()}`, {
        qos: 1,
        properties: {
          ...(correlationData === undefined ? {} : { correlationData }),
          userProperties: { seen: String(userProperties?.asked) },
          contentType: 'text/plain',
        },
      });
    });
    await server.subscribeAsync(name, { qos: 1 });
    const client = await sender(await connection(), { name, reliable: true });
    const replies = await Promise.all(
      ['x', 'y'].map((id) =>
        client.request(Buffer.from(id), { headers: { asked: id }, timeoutMillis: 10_000 }),
      ),
    );
    expect(replies.map((reply) => reply.payload.toString())).toEqual(['plain:x', 'plain:y']);
    expect(replies.map((reply) => reply.headers.seen)).toEqual(['x', 'y']);
    expect(replies[0]?.contentType).toBe('text/plain');
    expect(client.droppedReplies).toBe(0);
  });

  it('senders of one connection share one reply subscription, which is made again as soon as the link is back', async () => {
    const name = queueName('rpc-shared');
    const replyTos = new Set<string>();
    await receiver(await connection(), { name }, async (message, text) => {
      if (message.replyTo !== undefined) replyTos.add(message.replyTo);
      await message.reply(Buffer.from(`re:${text}`));
      await message.ack();
    });
    const conn = await connection();
    const [one, two] = [await sender(conn, { name }), await sender(conn, { name })];
    // Every SUBSCRIBE of this link, read off mqtt.js's outgoing packets.
    const subscribed: string[] = [];
    mqttDriverOf(conn)?.link?.client.on('packetsend', (packet) => {
      if (packet.cmd === 'subscribe') subscribed.push(...packet.subscriptions.map((s) => s.topic));
    });
    const asked = await Promise.all(
      [one, two].flatMap((queue, q) =>
        [0, 1, 2].map((i) => queue.request(Buffer.from(`${q}-${i}`), { timeoutMillis: 10_000 })),
      ),
    );
    expect(asked.map((reply) => reply.payload.toString())).toEqual(
      ['0-0', '0-1', '0-2', '1-0', '1-1', '1-2'].map((text) => `re:${text}`),
    );
    expect(subscribed).toHaveLength(1);
    expect(subscribed[0]).toMatch(/^mq\/reply\/[0-9a-f]{32}\/\+$/);
    // One response topic per sender, under the connection's one subscription.
    expect(replyTos.size).toBe(2);
    const prefix = subscribed[0]?.slice(0, -1) ?? '';
    for (const topic of replyTos) expect(topic.startsWith(prefix)).toBe(true);

    await conn.simulateDrop();
    await waitForStatus(conn, 'connected');
    await waitForStatus(one, 'connected');
    // No request since the drop: a reply a plain client sends to the sender's topic arrives (and, being for no
    // request, is dropped and counted) only if the subscription was made again with the link.
    const stray = await plain();
    const [topic] = replyTos;
    const before = one.droppedReplies + two.droppedReplies;
    const deadline = Date.now() + 10_000;
    while (one.droppedReplies + two.droppedReplies === before && Date.now() < deadline) {
      await stray.publishAsync(topic ?? '', 'stray', {
        qos: 1,
        properties: { correlationData: Buffer.from('none') },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(one.droppedReplies + two.droppedReplies).toBeGreaterThan(before);
    const again = await one.request(Buffer.from('after'), { timeoutMillis: 10_000 });
    expect(again.payload.toString()).toBe('re:after');
  });

  it('a replyTo with a wildcard is refused with INVALID_ARGUMENT, and the link stays up', async () => {
    const conn = await connection();
    const out = await sender(conn, { name: queueName('rpc-wildcard') });
    await expect(out.sendMsg(Buffer.from('x'), { replyTo: 'replies/+' })).rejects.toSatisfy((error) =>
      MqError.hasCode(error, 'INVALID_ARGUMENT'),
    );
    expect(conn.status).toBe('connected');
    await out.sendMsg(Buffer.from('y'), { replyTo: 'replies/own' });
  });
});
