import { type AmqpConnectionManager, type ChannelWrapper, connect } from 'amqp-connection-manager';
import type * as amqp from 'amqplib';
import { PREFETCH, receiverCount, type Scenario } from '../scenarios.js';
import { AMQP_URL, type Driver, type Session } from './driver.js';

/** A connection manager on its own connection (noDelay, as for every client), connected. */
async function manager(opened: AmqpConnectionManager[]): Promise<AmqpConnectionManager> {
  const connection = connect([AMQP_URL], { connectionOptions: { noDelay: true } });
  opened.push(connection);
  connection.on('connectFailed', () => {});
  await connection.connect({ timeout: 10_000 });
  return connection;
}

/**
 * amqp-connection-manager over amqplib, as its README shows it: a `ChannelWrapper` per connection whose
 * `setup` declares the topology (re-run on every reconnect), `consume()` with `prefetch` (a consumer it
 * re-creates after a reconnect) and `ack()` through the wrapper; the sender's wrapper is a confirm channel for
 * reliable modes (its default: `publish` settles on the broker's confirm) and `confirm: false` for best effort
 * (`publish` settles once amqplib took the message; past amqplib's buffer the wrapper queues it until 'drain').
 */
export const acmDriver: Driver = {
  name: 'acm',
  async open(s: Scenario, name: string, onDelivery): Promise<Session> {
    const opened: AmqpConnectionManager[] = [];
    const wrappers: ChannelWrapper[] = [];
    const broadcast = s.topology === 'broadcast-1to3';
    for (let i = 0; i < receiverCount(s.topology); i += 1) {
      // A broadcast receiver's own queue, named so that consume() can re-create its consumer; exclusive, so
      // that RabbitMQ deletes it with the connection, as the other clients' server-named queues.
      const queue = broadcast ? `${name}.acm-${i}` : name;
      const wrapper = (await manager(opened)).createChannel({
        confirm: false,
        setup: async (channel: amqp.Channel) => {
          if (broadcast) {
            await channel.assertExchange(name, 'fanout', { durable: false });
            await channel.assertQueue(queue, { exclusive: true });
            await channel.bindQueue(queue, name, '');
          } else {
            await channel.assertQueue(name, { durable: true });
          }
        },
      });
      wrapper.on('error', () => {});
      wrappers.push(wrapper);
      await wrapper.waitForConnect();
      await wrapper.consume(
        queue,
        (message) => {
          onDelivery(i, message.content);
          wrapper.ack(message);
        },
        { prefetch: PREFETCH },
      );
    }
    const sender = (await manager(opened)).createChannel({ confirm: s.mode !== 'best-effort' });
    sender.on('error', () => {});
    await sender.waitForConnect();
    const exchange = broadcast ? name : '';
    const routingKey = broadcast ? '' : name;
    const options = { persistent: s.mode === 'reliable-persistent' };
    return {
      send: async (payload) => {
        await sender.publish(exchange, routingKey, payload, options);
      },
      close: async () => {
        await Promise.allSettled(wrappers.map((wrapper) => wrapper.close()));
        await Promise.allSettled(opened.map((connection) => connection.close()));
      },
    };
  },
};
