import { createServer, type Server } from 'node:net';
import { waitForStatus } from '@mq/core';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttConnection } from '../src/index.js';
import { connection, queueName, receiver, sendAll, sender, until } from './helpers.js';

// aedes 1.2 speaks MQTT 3.1.1 only and treats $share/... as a literal topic, so unicast receivers there need
// sharedPrefix '' (then every receiver gets every message: keep one receiver per name).
describe('an in-process aedes broker (MQTT 3.1.1, no shared subscriptions)', () => {
  let broker: Aedes;
  let server: Server;
  let uri = '';

  beforeAll(async () => {
    broker = await Aedes.createBroker();
    server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('no address');
    uri = `mqtt://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses MQTT 5 (the default): the connection reports the refusal and keeps retrying', async () => {
    const refused = new MqttConnection({ uri });
    const errors: string[] = [];
    refused.on('error', (error) => errors.push(error.message));
    refused.connect();
    await until(() => errors.length > 0, 'a refused attempt');
    expect(errors[0]).toContain('protocol version');
    await refused.close();
  });

  it('broadcast and reliable receivers work, with the PUBACK sent on ack()', async () => {
    const name = queueName('aedes');
    const conn = await connection({ uri, protocolVersion: 4 });
    const { inbox: fan } = await receiver(conn, { name, broadcast: true, reliable: true });
    const { inbox: uni } = await receiver(await connection({ uri, protocolVersion: 4 }), {
      name,
      reliable: true,
      sharedPrefix: '',
    });
    const send = await sender(await connection({ uri, protocolVersion: 4 }), { name, reliable: true });
    await sendAll(send, ['a0', 'a1', 'a2']);
    await until(() => fan.texts.length === 3 && uni.texts.length === 3, 'every message at both receivers');
    expect(uni.texts).toEqual(['a0', 'a1', 'a2']);
    await waitForStatus(send, 'connected');
  });
});
