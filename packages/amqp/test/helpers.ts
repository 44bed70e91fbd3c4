import { type Message, type Status, waitForStatus } from '@mq/core';
import { uniqueId } from '@mq/testkit';
import {
  AmqpConnection,
  type AmqpConnectionOptions,
  AmqpQueue,
  type AmqpQueueOptions,
} from '../src/index.js';
import { brokerUrl } from './broker.js';

/** A connection to this file's broker (see `useNode`), named so that rabbitmqctl can find it; not yet connected. */
export function newConnection(options: AmqpConnectionOptions = {}): AmqpConnection {
  return new AmqpConnection({
    uri: brokerUrl(),
    reconnectMillis: 200,
    connectionName: uniqueId('mq-amqp-test'),
    ...options,
  });
}

/** A connected connection. */
export async function connected(options: AmqpConnectionOptions = {}): Promise<AmqpConnection> {
  const conn = newConnection(options);
  conn.connect();
  await waitForStatus(conn, 'connected');
  return conn;
}

/** What a test receiver got, with its messages left for the test to settle. */
export interface Inbox {
  /** The queue. */
  queue: AmqpQueue;
  /** Messages in arrival order. */
  messages: Message[];
  /** Payload texts in arrival order. */
  texts: string[];
  /** Errors the queue emitted. */
  errors: Error[];
}

/** A connected receiver that records messages and, unless `ack` is false, acks them. */
export async function receiver(
  conn: AmqpConnection,
  options: Omit<AmqpQueueOptions, 'isRecv'>,
  ack = true,
): Promise<Inbox> {
  const queue = new AmqpQueue({ reconnectMillis: 200, prefetch: 50, ...options, isRecv: true }, conn);
  const inbox: Inbox = { queue, messages: [], texts: [], errors: [] };
  queue.on('error', (error) => inbox.errors.push(error));
  queue.setMsgHandler(async (_q, message) => {
    inbox.messages.push(message);
    inbox.texts.push(message.payload.toString());
    if (ack) await message.ack();
  });
  queue.connect();
  await waitForStatus(queue, 'connected');
  return inbox;
}

/** A connected sender. */
export async function sender(
  conn: AmqpConnection,
  options: Omit<AmqpQueueOptions, 'isRecv'>,
): Promise<AmqpQueue> {
  const queue = new AmqpQueue({ reconnectMillis: 200, ...options, isRecv: false }, conn);
  queue.on('error', () => {});
  queue.connect();
  await waitForStatus(queue, 'connected');
  return queue;
}

/** Records every status a connection or queue emits from now on. */
export function statuses(source: { on(event: 'status', listener: (s: Status) => void): unknown }): Status[] {
  const seen: Status[] = [];
  source.on('status', (status) => seen.push(status));
  return seen;
}

/** A unique queue name for this run. */
export function queueName(part: string): string {
  return `mq-amqp-test.${part}.${uniqueId('q')}`;
}
