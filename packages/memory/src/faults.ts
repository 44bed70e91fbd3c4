import type { ContractFaults } from '@mq/core/contract';
import { MemoryBroker } from './broker.js';
import type { MemoryConnection } from './connection.js';

let downCount = 0;

/**
 * The conformance contract's fault hooks for connections to the in-process broker named `broker`: links cut,
 * the broker restarted (every session drops; queues and what they hold stay, as on a broker with durable
 * storage), and a broker that is down until brought up.
 */
export function memoryContractFaults(broker: string): ContractFaults {
  return {
    dropConnection: async (connection) => (connection as MemoryConnection).simulateDrop(),
    restartBroker: async () => {
      const running = MemoryBroker.named(broker);
      running.stop();
      // Down for a turn of the event loop: every link has dropped before the broker takes connections again.
      await new Promise((resolve) => setImmediate(resolve));
      running.start();
    },
    brokerDown: async () => {
      downCount += 1;
      const later = MemoryBroker.named(`${broker}-down-${downCount}`);
      later.stop();
      return {
        connectionOptions: { uri: `memory://${later.name}`, reconnectMillis: 50 },
        bringUp: async () => later.start(),
      };
    },
  };
}
