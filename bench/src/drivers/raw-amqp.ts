import { once } from 'node:events';
import * as amqp from 'amqplib';
import { deleteExchange, deleteQueue } from '../cleanup.js';
import { PREFETCH, receiverCount, type Scenario } from '../scenarios.js';
import { AMQP_URL, type Driver, type Session } from './driver.js';

async function connect(opened: amqp.ChannelModel[]): Promise<amqp.ChannelModel> {
  // noDelay: the raw client at its best, so that the ratio measures mq's own cost.
  const connection = await amqp.connect(AMQP_URL, { noDelay: true });
  connection.on('error', () => {});
  opened.push(connection);
  return connection;
}

/** amqplib doing what mq's AMQP backend does, with the same topology. */
export const rawAmqp: Driver = {
  name: 'raw',
  open: (s, name, onDelivery) => openRaw(s, name, onDelivery, false),
};

/**
 * `--routing`: amqplib doing what mq's topic routing does: a durable topic exchange named after the scenario, the
 * sender publishing with routing key `eu.created`, receivers bound with `*.created` (unicast: one durable group
 * queue `<name>:bench`, as mq's group `bench`; broadcast: an exclusive queue each).
 */
export const rawAmqpTopic: Driver = {
  name: 'raw',
  open: (s, name, onDelivery) => openRaw(s, name, onDelivery, true),
};

async function openRaw(
  s: Scenario,
  name: string,
  onDelivery: (receiver: number, payload: Buffer) => void,
  topic: boolean,
): Promise<Session> {
  const opened: amqp.ChannelModel[] = [];
  const broadcast = s.topology === 'broadcast-1to3';
  for (let i = 0; i < receiverCount(s.topology); i += 1) {
    const channel = await (await connect(opened)).createChannel();
    channel.on('error', () => {});
    await channel.prefetch(PREFETCH);
    let queue = name;
    if (topic) {
      await channel.assertExchange(name, 'topic', { durable: true });
      queue = broadcast
        ? (await channel.assertQueue('', { exclusive: true })).queue
        : (await channel.assertQueue(`${name}:bench`, { durable: true })).queue;
      await channel.bindQueue(queue, name, '*.created');
    } else if (broadcast) {
      await channel.assertExchange(name, 'fanout', { durable: false });
      queue = (await channel.assertQueue('', { exclusive: true })).queue;
      await channel.bindQueue(queue, name, '');
    } else {
      await channel.assertQueue(name, { durable: true });
    }
    await channel.consume(queue, (message) => {
      if (!message) return;
      onDelivery(i, message.content);
      channel.ack(message);
    });
  }
  const senderConnection = await connect(opened);
  const exchange = broadcast || topic ? name : '';
  const routingKey = topic ? 'eu.created' : broadcast ? '' : name;
  const options = { persistent: s.mode === 'reliable-persistent' };
  let send: (payload: Buffer) => Promise<void>;
  if (s.mode === 'best-effort') {
    const channel = await senderConnection.createChannel();
    channel.on('error', () => {});
    // One shared wait for 'drain' (as mq keeps), not one listener per waiting send.
    let blocked: Promise<unknown> | undefined;
    send = async (payload) => {
      if (blocked) await blocked;
      if (!channel.publish(exchange, routingKey, payload, options)) {
        blocked ??= once(channel, 'drain').finally(() => {
          blocked = undefined;
        });
        await blocked;
      }
    };
  } else {
    const channel = await senderConnection.createConfirmChannel();
    channel.on('error', () => {});
    send = (payload) =>
      new Promise<void>((resolve, reject) => {
        channel.publish(exchange, routingKey, payload, options, (error) =>
          error ? reject(error) : resolve(),
        );
      });
  }
  return {
    send,
    close: async () => {
      await Promise.allSettled(opened.map((connection) => connection.close()));
      if (topic) {
        await deleteQueue(`${name}:bench`).catch(() => {});
        await deleteExchange(name).catch(() => {});
      }
    },
  };
}
