import { AmqpConnection, AmqpQueue, amqpBackend } from '@mq/amqp';
import type { Backend, Connection, Queue } from '@mq/core';
import { MemoryConnection, MemoryQueue, memoryBackend } from '@mq/memory';
import { MqttConnection, MqttQueue, mqttBackend } from '@mq/mqtt';
import { amqpTestUrl, mqttTestUrl, uniqueId } from '@mq/testkit';
import fc from 'fast-check';
import { anyValue, edgyNumber, edgyString } from './hostile-values.js';

/** Every first-party backend, as an app would list them for `selectBackend`. */
export const ALL_BACKENDS: readonly Backend[] = [memoryBackend, amqpBackend, mqttBackend];

/** One backend the entry points run on, with the broker it talks to and the option names it takes. */
export interface Target {
  /** How the tests name it. */
  readonly label: 'memory' | 'RabbitMQ' | 'Mosquitto';
  /** Its descriptor. */
  readonly backend: Backend;
  /** A live broker (the shared one, or the in-process memory broker). */
  readonly uri: () => string;
  /** `new XConnection(options)`. */
  newConnection(options: unknown): Connection;
  /** `new XQueue(options, connection)`. */
  newQueue(options: unknown, connection: unknown): Queue;
  /** The backend's own connection options, each with values worth trying. */
  readonly connectionFields: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** The backend's own queue options, each with values worth trying. */
  readonly queueFields: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /**
   * True when a queue with these (accepted) options may be connected on the shared broker: RabbitMQ keeps a
   * durable unicast queue (and a dead-letter queue) after the test, so only broadcast queues are connected there.
   */
  connectable(options: Record<string, unknown>): boolean;
}

/** A value, now and then anything at all instead. */
function mostly<T>(values: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: values, weight: 4 }, { arbitrary: anyValue, weight: 1 });
}

/** Small non-negative integers, where most valid option values are, and the edges. */
export const someInteger: fc.Arbitrary<unknown> = fc.oneof(fc.integer({ min: 0, max: 70_000 }), edgyNumber);

/** A unique valid queue name (a fresh one each time: runs never share a queue on a broker). */
export const uniqueQueueName: fc.Arbitrary<string> = fc
  .constant(null)
  .map(() => `mq-fuzz.${uniqueId('q').replace(/[^a-z0-9-]/g, '')}`);

export const TARGETS: readonly Target[] = [
  {
    label: 'memory',
    backend: memoryBackend,
    uri: () => `memory://${uniqueId('fuzz')}`,
    newConnection: (options) => new MemoryConnection(options as never),
    newQueue: (options, connection) => new MemoryQueue(options as never, connection as never),
    connectionFields: {},
    queueFields: {},
    connectable: () => true,
  },
  {
    label: 'RabbitMQ',
    backend: amqpBackend,
    uri: amqpTestUrl,
    newConnection: (options) => new AmqpConnection(options as never),
    newQueue: (options, connection) => new AmqpQueue(options as never, connection as never),
    connectionFields: {
      heartbeatSeconds: mostly(someInteger),
      connectionName: mostly(edgyString),
      authMechanism: mostly(fc.constantFrom('PLAIN', 'EXTERNAL', 'plain')),
    },
    queueFields: {
      persistent: mostly(fc.boolean()),
      queueType: mostly(fc.constantFrom('classic', 'quorum', 'stream')),
      deliveryLimit: mostly(someInteger),
    },
    connectable: (options) => options.broadcast === true && options.deadLetter === undefined,
  },
  {
    label: 'Mosquitto',
    backend: mqttBackend,
    uri: mqttTestUrl,
    newConnection: (options) => new MqttConnection(options as never),
    newQueue: (options, connection) => new MqttQueue(options as never, connection as never),
    connectionFields: {
      clientId: mostly(fc.oneof(edgyString, fc.constant('mq-fuzz-fixed-id'))),
      cleanSession: mostly(fc.boolean()),
      protocolVersion: mostly(fc.constantFrom(3, 4, 5, '5', null)),
      sessionExpirySeconds: mostly(someInteger),
      receiveMaximum: mostly(someInteger),
      keepaliveSeconds: mostly(someInteger),
    },
    queueFields: {
      sharedPrefix: mostly(fc.oneof(edgyString, fc.constantFrom('$share/g/', '$share/', 'x/'))),
    },
    connectable: () => true,
  },
];
