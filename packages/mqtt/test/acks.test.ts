import { mqttTestUrl, uniqueId } from '@mq/testkit';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connection, queueName, receiver, sendAll, sender, until } from './helpers.js';

const raw: MqttClient[] = [];
afterEach(async () => {
  for (const client of raw.splice(0)) await client.endAsync(true);
});

describe('acks', () => {
  it('a reliable receiver sends the PUBACK only when the handler acks (the broker holds the message meanwhile)', async () => {
    const name = queueName('puback');
    const conn = await connection({ receiveMaximum: 1 });
    const { inbox } = await receiver(conn, { name, reliable: true }, 'none');
    const send = await sender(await connection(), { name, reliable: true });
    await sendAll(send, ['first', 'second']);
    await until(() => inbox.texts.length === 1, 'the first message');
    // With one unacked message allowed, the broker sends the second only after the first PUBACK.
    const { inbox: probe } = await receiver(conn, { name: `${name}.probe` });
    await sendAll(await sender(conn, { name: `${name}.probe` }), ['probe']);
    await until(() => probe.texts.length === 1, 'a best-effort probe on the same connection');
    expect(inbox.texts).toEqual(['first']);
    await inbox.messages[0]!.ack();
    await until(() => inbox.texts.length === 2, 'the second message after the ack');
    await inbox.messages[1]!.ack();
  });

  it('an ack after the link dropped rejects with ACK_FAILED and never touches the new link', async () => {
    const name = queueName('late-ack');
    const conn = await connection();
    const { queue, inbox } = await receiver(conn, { name, reliable: true }, 'none');
    await sendAll(await sender(await connection(), { name, reliable: true }), ['m']);
    await until(() => inbox.texts.length === 1, 'the message');
    conn.simulateDrop();
    await until(() => queue.status === 'disconnected', 'the drop');
    await expect(inbox.messages[0]!.ack()).rejects.toMatchObject({ code: 'ACK_FAILED' });
  });
});

describe('nack', () => {
  it('hands the message to the same receiver again and never to another receiver of the group', async () => {
    const name = queueName('nack');
    const nacked = new Set<string>();
    const a = await receiver(await connection(), { name, reliable: true }, async (message, text) => {
      if (nacked.has(text)) return message.ack();
      nacked.add(text);
      return message.nack();
    });
    const b = await receiver(await connection(), { name, reliable: true });
    const send = await sender(await connection(), { name, reliable: true });
    await sendAll(send, ['n0', 'n1', 'n2', 'n3']);
    await until(() => a.inbox.texts.length + b.inbox.texts.length >= 6, 'every message, nacked ones twice');
    expect([...a.inbox.texts].sort()).toEqual(['n0', 'n0', 'n2', 'n2']);
    expect(b.inbox.texts).toEqual(['n1', 'n3']);
  });

  it('on a best-effort receiver, also redelivers to the same handler', async () => {
    const name = queueName('nack0');
    let first = true;
    const { inbox } = await receiver(await connection(), { name }, async (message) => {
      if (first) {
        first = false;
        return message.nack();
      }
      return message.ack();
    });
    await sendAll(await sender(await connection(), { name }), ['again']);
    await until(() => inbox.texts.length === 2, 'the redelivery');
  });

  it('while the receiver is closing rejects with ACK_FAILED: the message stays unacked', async () => {
    const name = queueName('nack-closing');
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let outcome: unknown;
    const { queue, inbox } = await receiver(await connection(), { name, reliable: true }, async (message) => {
      await gate;
      outcome = await message.nack().catch((error: unknown) => error);
    });
    await sendAll(await sender(await connection(), { name, reliable: true }), ['x']);
    await until(() => inbox.texts.length === 1, 'the message');
    const closing = queue.close();
    release();
    await closing;
    expect(outcome).toMatchObject({ code: 'ACK_FAILED' });
  });

  it('a plain MQTT publisher reaches a reliable receiver that acks each message once', async () => {
    const name = queueName('raw-pub');
    const { inbox } = await receiver(await connection(), { name, reliable: true });
    const client = await connectAsync(mqttTestUrl(), { clientId: uniqueId('raw'), reconnectPeriod: 0 });
    client.on('error', () => {});
    raw.push(client);
    for (let i = 0; i < 3; i += 1) await client.publishAsync(name, `r${i}`, { qos: 1 });
    await until(() => inbox.texts.length === 3, 'three messages');
    expect(inbox.texts).toEqual(['r0', 'r1', 'r2']);
  });
});
