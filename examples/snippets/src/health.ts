import { waitForStatus } from '@mq/core';
import { MemoryConnection, MemoryQueue } from '@mq/memory';

const conn = new MemoryConnection({ uri: 'memory://health' });
conn.connect();
const worker = new MemoryQueue({ name: 'jobs', isRecv: true, reliable: true }, conn);
worker.setMsgHandler(async (_queue, message) => message.ack());
worker.connect();
await waitForStatus(worker, 'connected');

// A readiness probe: not ready while the link is down or a receiver has no consumer attached at the broker.
function ready(): boolean {
  const health = conn.health(); // reads no broker: cheap enough for every probe
  return health.linkUp && health.queues.every((queue) => !queue.isRecv || queue.attached === true);
}
console.log(`ready: ${ready()}`); // ready: true
const { attached, lastDeliveryAgeMillis, sendsInFlight } = worker.health();
console.log({ attached, lastDeliveryAgeMillis, sendsInFlight }); // { attached: true, lastDeliveryAgeMillis: undefined, sendsInFlight: 0 }
await conn.close();
console.log(`ready: ${ready()}`); // ready: false
