import { amqpBackend } from '@mq/amqp';
import { MQ_HEADERS, type MqError, replayOptions, selectBackend, waitForStatus } from '@mq/core';
import { memoryBackend } from '@mq/memory';
import { mqttBackend } from '@mq/mqtt';

// A poison job fails three times, goes to the dead-letter queue, is inspected there and replayed once the bug
// is fixed. Runs on memory://, amqp:// and mqtt:// alike (MQ_URL).
const uri = process.env.MQ_URL ?? 'memory://dead-letters';
const backend = selectBackend(uri, [amqpBackend, mqttBackend, memoryBackend]);
const conn = backend.createConnection({ uri });
conn.connect();

let bugFixed = false;
let replayed: () => void = () => {};
const replayDone = new Promise<void>((resolve) => {
  replayed = resolve;
});
// #region worker
const worker = backend.createQueue(
  {
    name: 'example.jobs',
    isRecv: true,
    reliable: true,
    retryDelayMillis: 200, // a failed job comes again 200 ms later, behind the others (default 1000)
    maxDeliveries: 3, // after its third failure it is given up on...
    deadLetter: 'example.jobs.dead', // ...and moved here, with headers saying why
  },
  conn,
);
worker.on('error', (error: MqError) => console.log(`worker: ${error.code}`));
worker.setMsgHandler(async (_queue, message) => {
  const job = message.payload.toString();
  if (job === 'poison' && !bugFixed) throw new Error(`cannot parse ${job}`);
  console.log(`worker: did ${job} (${message.messageId ?? 'no id'})`);
  await message.ack();
  if (job === 'poison') replayed();
});
// #endregion worker
worker.connect();

const jobs = backend.createQueue({ name: 'example.jobs', isRecv: false, reliable: true }, conn);
const deadLetters = backend.createQueue({ name: 'example.jobs.dead', isRecv: true, reliable: true }, conn);
// #region inspect
deadLetters.setMsgHandler(async (_queue, message) => {
  const { headers } = message;
  console.log(
    `dead letter: ${message.payload.toString()} from ${headers[MQ_HEADERS.deadLetterFrom]} after ${headers[MQ_HEADERS.deadLetterDeliveries]} deliveries: ${headers[MQ_HEADERS.deadLetterError]}`,
  );
  bugFixed = true; // a new release fixed the parser: replay it with its own headers and ids (not mq's)
  await jobs.sendMsg(message.payload, replayOptions(message));
  await message.ack();
});
// #endregion inspect
deadLetters.connect();
jobs.connect();
await Promise.all([worker, deadLetters, jobs].map((queue) => waitForStatus(queue, 'connected')));

await jobs.sendMsg(Buffer.from('poison'), { messageId: 'job-1' });
await jobs.sendMsg(Buffer.from('report'), { messageId: 'job-2' });
await replayDone;
await conn.close();
