import { MqError, waitForStatus } from '@mq/core';
import { MemoryConnection, MemoryQueue } from '@mq/memory';

const conn = new MemoryConnection({ uri: 'memory://messages-loop' });
conn.connect();
const send = new MemoryQueue({ name: 'jobs', isRecv: false, reliable: true }, conn);
send.connect();
await waitForStatus(send, 'connected');
for (const job of ['a', 'b', 'c']) await send.sendMsg(Buffer.from(job));

const receiver = new MemoryQueue({ name: 'jobs', isRecv: true, reliable: true, prefetch: 10 }, conn);
const shutdown = new AbortController(); // aborted on SIGTERM, say
const handled: string[] = [];
// #region loop
try {
  for await (const message of receiver.messages({ signal: shutdown.signal })) {
    handled.push(message.payload.toString());
    await message.ack();
    if (handled.length === 3) shutdown.abort();
  }
} catch (error) {
  if (!MqError.hasCode(error, 'ABORTED')) throw error;
}
// #endregion loop
console.log(`handled ${handled.join(', ')}; receiver ${receiver.status}`);
await conn.close();
