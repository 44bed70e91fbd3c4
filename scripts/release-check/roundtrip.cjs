// Sends one message through a backend and receives it, the way an app would: two connections (MQTT wants one
// per queue when a sender and a receiver share a name), a reliable unicast queue, ack. Shared by smoke.mjs and
// smoke.cjs, which pass in the backend and @mq/core as they loaded them (ESM or CJS).
'use strict';

const { randomUUID } = require('node:crypto');

// One fixed queue name per backend, so reruns reuse one durable queue instead of leaving one per run; stale
// messages from an interrupted run are acked and ignored.
const QUEUE = 'mq-release-check.roundtrip';
const STEP_MILLIS = 10_000;

// The same variables as @mq/testkit's amqpTestUrl() / mqttTestUrl(); read at run time, no turbo task involved.
const { env } = process;

function brokerUrl(backend) {
  const { schemes } = backend;
  if (schemes.includes('amqp')) return env.MQ_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  if (schemes.includes('mqtt')) return env.MQ_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  if (schemes.includes('memory')) return 'memory://mq-release-check';
  throw new Error(`no broker known for ${backend.name} (schemes ${schemes.join(', ')})`);
}

// The URI as printed: an app has no redactUri (backends do, through @mq/core/spi), so the password goes here.
function redacted(uri) {
  const url = new URL(uri);
  if (url.password) url.password = '***';
  return url.toString();
}

function withTimeout(promise, millis, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${millis} ms`)), millis);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function roundTrip(backend, core, flavour) {
  const uri = brokerUrl(backend);
  const started = Date.now();
  const text = `mq release check ${flavour} ${randomUUID()}`;
  const errors = [];
  const watch = (what, emitter) => emitter.on('error', (error) => errors.push(`${what}: ${error.message}`));
  const recvConnection = watch('receiver connection', backend.createConnection({ uri }));
  const sendConnection = watch('sender connection', backend.createConnection({ uri }));
  try {
    recvConnection.connect();
    sendConnection.connect();
    const wait = (source, what) =>
      core.waitForStatus(source, 'connected', { timeoutMillis: STEP_MILLIS }).catch((error) => {
        throw new Error(`${what} did not connect: ${error.message}; errors: ${errors.join('; ') || 'none'}`);
      });
    await wait(recvConnection, 'receiver connection');
    await wait(sendConnection, 'sender connection');

    let received;
    const got = new Promise((resolve) => {
      received = resolve;
    });
    let stale = 0;
    const receiver = watch(
      'receiver',
      backend.createQueue({ name: QUEUE, isRecv: true, reliable: true, prefetch: 10 }, recvConnection),
    );
    receiver.setMsgHandler(async (_queue, message) => {
      await message.ack();
      if (Buffer.from(message.payload).toString() === text) received(message.payload);
      else stale += 1;
    });
    receiver.connect();
    await wait(receiver, 'receiver queue');
    const sender = watch(
      'sender',
      backend.createQueue({ name: QUEUE, isRecv: false, reliable: true }, sendConnection),
    );
    sender.connect();
    await wait(sender, 'sender queue');
    await withTimeout(sender.sendMsg(Buffer.from(text)), STEP_MILLIS, 'sendMsg');
    const payload = await withTimeout(got, STEP_MILLIS, `receiving on ${QUEUE}`);
    if (!Buffer.isBuffer(payload)) throw new Error('the payload is not a Buffer');
    const millis = Date.now() - started;
    const note = stale > 0 ? ` (acked ${stale} stale message(s) of an earlier run)` : '';
    console.log(
      `${flavour} round trip ok via ${redacted(uri)}: sent, received and acked 1 message in ${millis} ms${note}`,
    );
  } finally {
    await withTimeout(
      Promise.allSettled([recvConnection.close(), sendConnection.close()]),
      STEP_MILLIS,
      'close()',
    );
  }
  if (errors.length > 0) console.log(`${flavour} error events seen (not fatal): ${errors.join('; ')}`);
}

function isBackend(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.spiVersion === 'number' &&
    Array.isArray(value.schemes) &&
    typeof value.createConnection === 'function' &&
    typeof value.createQueue === 'function'
  );
}

module.exports = { roundTrip, isBackend };
