import { MemoryBroker, memoryBackend, memoryContractFaults } from '@mq/memory';
import { runContract, uniqueId } from '@mq/testkit';

// The reference backend passes the whole contract; each run gets its own in-process broker.
const broker = uniqueId('conformance');
const unreachable = MemoryBroker.named(uniqueId('down'));
unreachable.stop();

runContract({
  backend: memoryBackend,
  connectionOptions: () => ({ uri: `memory://${broker}` }),
  unreachableConnectionOptions: () => ({ uri: `memory://${unreachable.name}`, reconnectMillis: 50 }),
  faults: memoryContractFaults(broker),
});
