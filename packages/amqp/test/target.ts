import type { Backend, Queue } from '@mq/core';
import type { ContractFaults, ContractTarget } from '@mq/core/contract';
import { amqpTestUrl, uniqueId, unreachableUrl } from '@mq/testkit';
import { type AmqpConnection, amqpBackend } from '../src/index.js';
import { deleteTopology } from './broker.js';

/**
 * The contract target for the RabbitMQ under test. `dropConnection` destroys the connection's socket as a
 * network failure would (the broker sees it die; nothing else on the broker is touched); every durable queue and
 * exchange a case opened is remembered, so that `cleanup()` deletes them.
 */
export function amqpTarget(
  url: () => string = amqpTestUrl,
  extraFaults: ContractFaults = {},
  persistent = false,
): { target: ContractTarget; cleanup: () => Promise<void> } {
  const queues = new Set<string>();
  const exchanges = new Set<string>();
  const backend: Backend = {
    ...amqpBackend,
    createQueue: (options, connection) => {
      const queue: Queue = amqpBackend.createQueue(options, connection);
      queue.on('status', (status) => {
        if (status !== 'connected') return;
        if (options.routing === 'topic') {
          // A topic space is a durable topic exchange; a group's queue is `<space>:<group>`.
          exchanges.add(options.name);
          if (typeof options.group === 'string' && !options.broadcast)
            queues.add(`${options.name}:${options.group}`);
        } else if (options.broadcast) exchanges.add(options.name);
        else queues.add(options.name);
      });
      return queue;
    },
  };
  /** Options for a connection through a proxy on 127.0.0.1:`proxyPort`, with a short connect timeout. */
  const viaProxy = (
    proxyPort: number,
  ): { uri: string; connectTimeoutMillis: number; reconnectMillis: number } => {
    const uri = new URL(url());
    uri.hostname = '127.0.0.1';
    uri.port = String(proxyPort);
    return { uri: uri.toString(), connectTimeoutMillis: 1000, reconnectMillis: 200 };
  };
  const target: ContractTarget = {
    backend,
    connectionOptions: () => ({
      uri: url(),
      reconnectMillis: 200,
      connectionName: uniqueId('mq-amqp-contract'),
    }),
    unreachableConnectionOptions: () => ({ uri: unreachableUrl('amqp'), reconnectMillis: 50 }),
    // Messages that must survive a broker restart are persistent (delivery mode 2).
    ...(persistent ? { extraQueueOptions: () => ({ persistent: true }) } : {}),
    faults: {
      dropConnection: async (connection) => (connection as AmqpConnection).simulateDrop(),
      silentBroker: {
        get address() {
          const brokerUrl = new URL(url());
          return { host: brokerUrl.hostname, port: Number(brokerUrl.port || 5672) };
        },
        connectionOptions: (proxyPort) => ({ ...viaProxy(proxyPort), heartbeatSeconds: 0 }),
        heartbeatOptions: (proxyPort, seconds) => ({ ...viaProxy(proxyPort), heartbeatSeconds: seconds }),
      },
      ...extraFaults,
    },
  };
  return { target, cleanup: () => deleteTopology(queues, exchanges) };
}
