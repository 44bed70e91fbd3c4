import { waitForStatus } from '@mq/core';
import { MemoryConnection, MemoryQueue } from '@mq/memory';

const conn = new MemoryConnection({ uri: 'memory://metadata' });
conn.connect();
const orders = new MemoryQueue({ name: 'orders', isRecv: true, reliable: true }, conn);
let handled: () => void = () => {};
const done = new Promise<void>((resolve) => {
  handled = resolve;
});
// #region receive
orders.setMsgHandler(async (_queue, message) => {
  const { headers, messageId, correlationId, contentType, redelivered } = message;
  console.log(
    `${messageId} for ${correlationId} (${contentType}, tenant ${headers.tenant}, redelivered ${redelivered})`,
  );
  await message.ack();
  handled();
});
// #endregion receive
orders.connect();
const out = new MemoryQueue({ name: 'orders', isRecv: false, reliable: true }, conn);
out.connect();
await waitForStatus(out, 'connected');
// #region send
await out.sendMsg(Buffer.from(JSON.stringify({ sku: 'A-1', qty: 2 })), {
  headers: { tenant: 'acme' },
  messageId: 'order-1001',
  correlationId: 'checkout-77',
  contentType: 'application/json',
  expirationMillis: 60_000,
});
// #endregion send
await done;
await conn.close();
