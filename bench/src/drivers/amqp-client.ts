import { type AMQPChannel, AMQPClient } from '@cloudamqp/amqp-client';
import { PREFETCH, receiverCount, type Scenario } from '../scenarios.js';
import { AMQP_URL, type Driver, type Session } from './driver.js';

async function channel(opened: AMQPClient[]): Promise<AMQPChannel> {
  const client = new AMQPClient(AMQP_URL);
  opened.push(client);
  await client.connect();
  // The peer at its best, as amqplib and mq are measured: amqp-client.js leaves Nagle's algorithm on.
  client.socket?.setNoDelay(true);
  return client.channel();
}

/**
 * amqp-client.js (`@cloudamqp/amqp-client`) through its low-level API, the one its own performance figures
 * measure (the high-level `AMQPSession` adds reconnection, and serializes unconfirmed publishes through a lock):
 * one connection and channel per sender and receiver, `basicQos(100)`, manual acks returned from the consumer
 * callback, `confirmSelect()` on reliable senders so that `basicPublish` settles on the broker's confirm; a
 * best-effort `basicPublish` settles once its bytes are written (its backpressure). Same topology as mq.
 */
export const amqpClientDriver: Driver = {
  name: 'amqp-client',
  async open(s: Scenario, name: string, onDelivery): Promise<Session> {
    const opened: AMQPClient[] = [];
    const broadcast = s.topology === 'broadcast-1to3';
    for (let i = 0; i < receiverCount(s.topology); i += 1) {
      const ch = await channel(opened);
      await ch.basicQos(PREFETCH);
      let queue = name;
      if (broadcast) {
        await ch.exchangeDeclare(name, 'fanout', { durable: false });
        queue = (await ch.queueDeclare('')).name;
        await ch.queueBind(queue, name, '');
      } else {
        await ch.queueDeclare(name, { durable: true, autoDelete: false, exclusive: false });
      }
      await ch.basicConsume(queue, { noAck: false }, (message) => {
        const body = message.body as Uint8Array;
        onDelivery(i, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
        return message.ack();
      });
    }
    const sender = await channel(opened);
    if (s.mode !== 'best-effort') await sender.confirmSelect();
    const exchange = broadcast ? name : '';
    const routingKey = broadcast ? '' : name;
    const properties = { deliveryMode: s.mode === 'reliable-persistent' ? 2 : 1 };
    return {
      send: async (payload) => {
        await sender.basicPublish(exchange, routingKey, payload, properties);
      },
      close: async () => {
        await Promise.allSettled(opened.map((client) => client.close()));
      },
    };
  },
};
