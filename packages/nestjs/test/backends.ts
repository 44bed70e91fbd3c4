import { amqpBackend } from '@mq/amqp';
import { type Backend, type Connection, type Queue, selectBackend, waitForStatus } from '@mq/core';
import { memoryBackend } from '@mq/memory';
import { mqttBackend } from '@mq/mqtt';
import { amqpTestUrl, mqttTestUrl, uniqueId } from '@mq/testkit';

/** Each backend the tests run on, by the URI an app would give. */
export const BACKENDS: readonly (readonly [label: string, uri: () => string])[] = [
  ['memory', () => `memory://${uniqueId('nest')}`],
  ['RabbitMQ', amqpTestUrl],
  ['Mosquitto', mqttTestUrl],
];

/** A plain mq connection (no Nest), as another app on the same broker would have. */
export async function plainConnection(uri: string): Promise<{ backend: Backend; connection: Connection }> {
  const backend = selectBackend(uri, [memoryBackend, amqpBackend, mqttBackend]);
  const connection = backend.createConnection({ uri });
  connection.connect();
  await waitForStatus(connection, 'connected');
  return { backend, connection };
}

/** A connected plain mq queue on `connection`. */
export async function plainQueue(
  backend: Backend,
  connection: Connection,
  options: { name: string; isRecv: boolean; reliable?: boolean },
  handler?: Parameters<Queue['setMsgHandler']>[0],
): Promise<Queue> {
  const queue = backend.createQueue({ reliable: true, ...options }, connection);
  if (handler) queue.setMsgHandler(handler);
  queue.connect();
  await waitForStatus(queue, 'connected');
  return queue;
}
