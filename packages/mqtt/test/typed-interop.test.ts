import type { Message, MqError } from '@mq/core';
import { mqttTestUrl, uniqueId } from '@mq/testkit';
import { connectAsync, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttQueue, type MqttQueueOptions } from '../src/index.js';
import { connection, queueName, receiver, sender, until } from './helpers.js';

// Typed messages as plain MQTT clients see them: MQTT 5 carries the content type (which picks the codec), MQTT
// 3.1.1 carries none (the queue's codec decodes, and senders set none).
/** Options of a typed queue for the Buffer-typed test helpers (the helpers' inboxes read bodies as unknown). */
const json = (options: object): Omit<MqttQueueOptions, 'isRecv'> =>
  ({ ...options, codec: 'json' }) as unknown as Omit<MqttQueueOptions, 'isRecv'>;

const raw: MqttClient[] = [];
afterEach(async () => {
  for (const client of raw.splice(0)) await client.endAsync();
});

async function rawClient(protocolVersion: 4 | 5): Promise<MqttClient> {
  const client = await connectAsync(mqttTestUrl(), {
    clientId: uniqueId('raw'),
    reconnectPeriod: 0,
    protocolVersion,
  });
  client.on('error', () => {});
  raw.push(client);
  return client;
}

describe('typed messages with plain mqtt.js', () => {
  it('MQTT 5: a plain publisher of JSON and of text/plain reaches a json receiver decoded by content type; a malformed one is dropped once with INVALID_PAYLOAD', async () => {
    const name = queueName('typed5');
    const { queue, inbox } = await receiver(await connection(), json({ name, reliable: true }));
    const client = await rawClient(5);
    const publish = (body: string, options: IClientPublishOptions = {}) =>
      client.publishAsync(name, body, { qos: 1, ...options });
    await publish('{"n":1}', { properties: { contentType: 'application/json' } });
    await publish('just words', { properties: { contentType: 'text/plain' } });
    await publish('{"n":', { properties: { contentType: 'application/json' } });
    await publish('[2]');
    await until(
      () => inbox.messages.length === 3 && inbox.errors.length === 1,
      'three messages and one error',
    );
    expect(inbox.messages.map((m) => (m as Message<unknown>).body)).toEqual([{ n: 1 }, 'just words', [2]]);
    expect(inbox.errors.map((e) => e.code)).toEqual(['INVALID_PAYLOAD']);
    expect(queue.status).toBe('connected');
  });

  it('MQTT 3.1.1: a plain JSON publisher is decoded by the queue codec, and a typed sender sets no content type', async () => {
    const name = queueName('typed4');
    const conn = await connection({ protocolVersion: 4 });
    const { inbox } = await receiver(conn, json({ name, reliable: true }));
    const client = await rawClient(4);
    await client.publishAsync(name, '{"from":"plain"}', { qos: 1 });
    const out = new MqttQueue<{ from: string }>({ name, isRecv: false, reliable: true, codec: 'json' }, conn);
    out.connect();
    const seen: Array<{ text: string; contentType: unknown }> = [];
    const watcher = await rawClient(5);
    watcher.on('message', (_topic, payload, packet) =>
      seen.push({ text: payload.toString(), contentType: packet.properties?.contentType }),
    );
    await watcher.subscribeAsync(name, { qos: 1 });
    await until(() => out.status === 'connected', 'the sender');
    await out.sendMsg({ from: 'mq' });
    await until(() => inbox.messages.length === 2 && seen.length === 1, 'both messages and the watcher');
    expect(inbox.messages.map((m) => (m as Message<unknown>).body)).toEqual([
      { from: 'plain' },
      { from: 'mq' },
    ]);
    expect(seen).toEqual([{ text: '{"from":"mq"}', contentType: undefined }]);
    expect(inbox.errors).toEqual([] as MqError[]);
    await out.close();
  });

  it('MQTT 5: a plain subscriber sees what a typed sender sends: JSON bytes with content type application/json', async () => {
    const name = queueName('typedout');
    const watcher = await rawClient(5);
    const seen: Array<{ text: string; contentType: unknown }> = [];
    watcher.on('message', (_topic, payload, packet) =>
      seen.push({ text: payload.toString(), contentType: packet.properties?.contentType }),
    );
    await watcher.subscribeAsync(name, { qos: 1 });
    const out = await sender(await connection(), json({ name, reliable: true }));
    await (out as unknown as MqttQueue<number[]>).sendMsg([1, 2, 3]);
    await until(() => seen.length === 1, 'the message');
    expect(seen).toEqual([{ text: '[1,2,3]', contentType: 'application/json' }]);
  });
});
