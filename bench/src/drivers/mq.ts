import type { Backend, Connection, Queue } from '@mq/core';
import { waitForStatus } from '@mq/core';
import { deleteExchange, deleteQueue } from '../cleanup.js';
import { PREFETCH, receiverCount, type Scenario } from '../scenarios.js';
import { AMQP_URL, type Driver, MQTT_URL, type Session } from './driver.js';

function isBackend(value: unknown): value is Backend {
  return typeof value === 'object' && value !== null && 'spiVersion' in value && 'createQueue' in value;
}

async function backendFor(s: Scenario): Promise<Backend> {
  const module = (await (s.family === 'amqp' ? import('@mq/amqp') : import('@mq/mqtt'))) as Record<
    string,
    unknown
  >;
  const backend = Object.values(module).find(isBackend);
  if (!backend) throw new Error(`no backend descriptor exported for ${s.family}`);
  return backend;
}

/** mq through the generic backend interface, exactly as an app would use it. */
export const mqDriver: Driver = {
  name: 'mq',
  open: (s, name, onDelivery) => openMq(s, name, onDelivery, false),
};

/** The topic every `--routing` message is sent with: one object, as an app would keep it. */
const TOPIC_SEND = Object.freeze({ topic: 'eu.created' });

/**
 * `--routing`: mq with topic routing on the scenario's name as space; receivers of `*.created` share group
 * `bench` (unicast) or each get every message (broadcast). On AMQP, closing deletes the space's exchange and the
 * group's queue.
 */
export const mqTopicDriver: Driver = {
  name: 'mq',
  open: (s, name, onDelivery) => openMq(s, name, onDelivery, true),
};

async function openMq(
  s: Scenario,
  name: string,
  onDelivery: (receiver: number, payload: Buffer) => void,
  topic: boolean,
): Promise<Session> {
  const backend = await backendFor(s);
  const uri = s.family === 'amqp' ? AMQP_URL : MQTT_URL;
  const connections: Connection[] = [];
  const base = {
    name,
    reliable: s.mode !== 'best-effort',
    broadcast: s.topology === 'broadcast-1to3',
    ...(s.family === 'amqp' ? { persistent: s.mode === 'reliable-persistent' } : {}),
    ...(topic ? { routing: 'topic' } : {}),
  };
  const receiverRouting = topic
    ? { topics: ['*.created'], ...(s.topology === 'broadcast-1to3' ? {} : { group: 'bench' }) }
    : {};
  const open = async (
    queueOptions: Record<string, unknown>,
    setup?: (queue: Queue) => void,
  ): Promise<Queue> => {
    const connection = backend.createConnection({ uri });
    connection.on('error', () => {});
    connections.push(connection);
    connection.connect();
    const queue = backend.createQueue({ ...base, ...queueOptions } as never, connection);
    queue.on('error', () => {});
    setup?.(queue);
    queue.connect();
    await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
    return queue;
  };
  for (let i = 0; i < receiverCount(s.topology); i += 1) {
    await open({ isRecv: true, prefetch: PREFETCH, ...receiverRouting }, (queue) =>
      queue.setMsgHandler((_q, message) => {
        onDelivery(i, message.payload);
        return message.ack();
      }),
    );
  }
  const sender = await open({ isRecv: false });
  return {
    send: topic ? (payload) => sender.sendMsg(payload, TOPIC_SEND) : (payload) => sender.sendMsg(payload),
    close: async () => {
      await Promise.allSettled(connections.map((connection) => connection.close()));
      if (topic && s.family === 'amqp') {
        await deleteQueue(`${name}:bench`).catch(() => {});
        await deleteExchange(name).catch(() => {});
      }
    },
  };
}
