import { type Message, MqError, waitForStatus } from '@mq/core';
import { uniqueId } from '@mq/testkit';
import * as amqp from 'amqplib';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AmqpConnection, AmqpQueue, type AmqpQueueOptions } from '../src/index.js';
import { brokerUrl, deleteTopology, until } from './broker.js';
import { connected, newConnection, queueName, receiver, sender } from './helpers.js';

// Queues declared by others (issue #27), on the RabbitMQ under test: each test makes its own uniquely named
// queues and exchanges, deleted after the file.
const queues = new Set<string>();
const exchanges = new Set<string>();
afterAll(() => deleteTopology(queues, exchanges), 30_000);

/** A unique queue name (mq's pattern), deleted after the file. */
function name(part: string): string {
  const q = queueName(part);
  queues.add(q);
  return q;
}

/** A unique name mq's pattern refuses but RabbitMQ takes: upper case, `:` and `/`. */
function foreignName(part: string): string {
  const q = `Legacy:${part}/${uniqueId('Q')}`;
  queues.add(q);
  return q;
}

/** The `INVALID_OPTIONS` message `make` throws. */
function invalid(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_OPTIONS');
}

let plain: amqp.ChannelModel;
let conn: AmqpConnection;

beforeEach(async () => {
  plain = await amqp.connect(brokerUrl());
  plain.on('error', () => {});
  conn = await connected();
});

afterEach(async () => {
  await conn.close();
  await plain.close().catch(() => {});
});

/** Runs `use` on a fresh plain amqplib channel (another app, or an operator), closed after. */
async function asOther<T>(use: (channel: amqp.Channel) => Promise<T>): Promise<T> {
  const channel = await plain.createChannel();
  channel.on('error', () => {});
  try {
    return await use(channel);
  } finally {
    await channel.close().catch(() => {});
  }
}

/** True when the queue exists (a passive declare on a throwaway channel). */
async function exists(queue: string): Promise<boolean> {
  return asOther((channel) => channel.checkQueue(queue)).then(
    () => true,
    () => false,
  );
}

/** A queue not yet connected, recording its errors and how often it tried to open. */
function watched(options: AmqpQueueOptions): { queue: AmqpQueue; errors: MqError[]; attempts: () => number } {
  const queue = new AmqpQueue({ reconnectMillis: 50, ...options }, conn);
  const errors: MqError[] = [];
  queue.on('error', (error) => errors.push(error));
  let attempts = 0;
  queue.on('status', (status) => {
    if (status === 'connecting') attempts += 1;
  });
  return { queue, errors, attempts: () => attempts };
}

describe('queue arguments are validated when the queue is made', () => {
  const base = { name: 'jobs', isRecv: false } as const;

  it('refuses a bad value of each typed argument, naming the option', () => {
    expect(invalid(() => new AmqpQueue({ ...base, maxLength: -1 }, newConnection()))).toMatch(
      /maxLength must be an integer from 0/,
    );
    expect(invalid(() => new AmqpQueue({ ...base, maxLengthBytes: 1.5 }, newConnection()))).toMatch(
      /maxLengthBytes must be an integer/,
    );
    expect(
      invalid(() => new AmqpQueue({ ...base, overflow: 'reject' as 'drop-head' }, newConnection())),
    ).toMatch(/overflow must be one of 'drop-head', 'reject-publish', 'reject-publish-dlx', got "reject"/);
    expect(
      invalid(
        () => new AmqpQueue({ ...base, messageTtlMillis: '60000' as unknown as number }, newConnection()),
      ),
    ).toMatch(/messageTtlMillis must be an integer/);
    expect(invalid(() => new AmqpQueue({ ...base, deadLetterExchange: 'dlx\n' }, newConnection()))).toMatch(
      /deadLetterExchange must be a string without control characters/,
    );
    expect(
      invalid(() => new AmqpQueue({ ...base, deadLetterExchange: 'x'.repeat(256) }, newConnection())),
    ).toMatch(/deadLetterExchange must be at most 255 bytes/);
    expect(invalid(() => new AmqpQueue({ ...base, deadLetterRoutingKey: 'dead' }, newConnection()))).toMatch(
      /deadLetterRoutingKey needs deadLetterExchange/,
    );
    expect(
      invalid(() => new AmqpQueue({ ...base, declare: 'no' as unknown as boolean }, newConnection())),
    ).toMatch(/declare must be a boolean/);
  });

  it('queueArguments takes x- arguments without a typed option, with string, boolean or finite number values', () => {
    const make = (queueArguments: unknown) => () =>
      new AmqpQueue({ ...base, queueArguments } as AmqpQueueOptions, newConnection());
    expect(invalid(make([1]))).toMatch(/queueArguments must be an object, got an array/);
    expect(invalid(make({ 'max-length': 1 }))).toMatch(/queueArguments names must be RabbitMQ x- arguments/);
    expect(invalid(make({ 'x-max-length': 1 }))).toMatch(
      /queueArguments\['x-max-length'\]: use the option maxLength/,
    );
    expect(invalid(make({ 'x-queue-type': 'quorum' }))).toMatch(/use the option queueType/);
    expect(invalid(make({ 'x-single-active-consumer': { on: true } }))).toMatch(
      /queueArguments\['x-single-active-consumer'\] must be a string, a boolean or a finite number/,
    );
    expect(invalid(make({ 'x-max-priority': Number.NaN }))).toMatch(/finite number/);
    const hostile = Object.defineProperty({}, 'x-a', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(invalid(make(hostile))).toMatch(/queueArguments\.x-a could not be read/);
    expect(() =>
      make({ 'x-single-active-consumer': true, 'x-max-priority': 5, 'x-queue-mode': 'lazy' })(),
    ).not.toThrow();
  });

  it('arguments are for unicast queues, and cannot be combined with declare: false', () => {
    expect(invalid(() => new AmqpQueue({ ...base, broadcast: true, maxLength: 5 }, newConnection()))).toMatch(
      /maxLength is for unicast queues/,
    );
    expect(invalid(() => new AmqpQueue({ ...base, declare: false, maxLength: 5 }, newConnection()))).toMatch(
      /maxLength cannot be checked with declare: false/,
    );
    expect(
      invalid(
        () =>
          new AmqpQueue(
            { ...base, declare: false, queueArguments: { 'x-max-priority': 5 } },
            newConnection(),
          ),
      ),
    ).toMatch(/queueArguments\['x-max-priority'\] cannot be checked with declare: false/);
    expect(
      invalid(() => new AmqpQueue({ ...base, declare: false, queueType: 'quorum' }, newConnection())),
    ).toMatch(/queueType cannot be checked with declare: false/);
  });

  it("names RabbitMQ takes (upper case, ':', '/') are accepted only with declare: false; mq's pattern holds for what it declares", () => {
    const legacy = 'Orders:EU/created';
    expect(invalid(() => new AmqpQueue({ ...base, name: legacy }, newConnection()))).toMatch(
      /name must match/,
    );
    expect(new AmqpQueue({ ...base, name: legacy, declare: false }, newConnection()).name).toBe(legacy);
    expect(new AmqpQueue({ ...base, name: 'Ordres-été', declare: false }, newConnection()).name).toBe(
      'Ordres-été',
    );
    for (const bad of ['', 'has space', 'tab\there', 'line\n']) {
      expect(invalid(() => new AmqpQueue({ ...base, name: bad, declare: false }, newConnection()))).toMatch(
        /name of a queue attached with declare: false must be non-empty, without whitespace or control characters/,
      );
    }
    expect(
      invalid(() => new AmqpQueue({ ...base, name: 'é'.repeat(128), declare: false }, newConnection())),
    ).toMatch(/name must be at most 255 bytes \(UTF-8\), got 256/);
    // mq's own dead-letter queue is declared by mq: its name keeps mq's pattern.
    expect(
      invalid(
        () =>
          new AmqpQueue(
            { name: legacy, isRecv: true, declare: false, deadLetter: 'Dead:Letters' },
            newConnection(),
          ),
      ),
    ).toMatch(/deadLetter/);
  });
});

describe('declare: false attaches to what someone else declared', () => {
  it('a missing queue is one NOT_FOUND naming it, then quiet retries with backoff; the receiver opens by itself once the queue appears', async () => {
    const q = foreignName('missing');
    const { queue, errors, attempts } = watched({ name: q, isRecv: true, declare: false, reliable: true });
    const got: string[] = [];
    queue.setMsgHandler(async (_queue, message: Message) => {
      got.push(message.payload.toString());
      await message.ack();
    });
    queue.connect();
    // Backoff from 50 ms (50, 100, 200, 400 ...): five attempts take about 1.5 s, with one error.
    await until(() => attempts() >= 5, 'five attempts to open');
    expect(errors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect(errors[0]?.message).toBe(
      `[mq/amqp] queue '${q}' does not exist on the broker (declare: false): waiting for it, retrying quietly with the queue's backoff; declare it on the broker, or let mq declare it (drop declare: false)`,
    );
    expect(queue.status).not.toBe('connected');
    // mq declared nothing.
    expect(await exists(q)).toBe(false);
    await asOther((channel) => channel.assertQueue(q, { durable: true, arguments: { 'x-max-length': 100 } }));
    await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
    await asOther(async (channel) => channel.sendToQueue(q, Buffer.from('from-legacy-app')));
    await until(() => got.length === 1, 'the message of the other app');
    expect(got).toEqual(['from-legacy-app']);
    expect(errors).toHaveLength(1);
    await queue.close();
  }, 20_000);

  it('a sender on a missing queue reports NOT_FOUND once and holds sends rather than losing them (or, with sendBufferMessages 0, refuses them with NOT_CONNECTED), until the queue appears', async () => {
    const q = foreignName('sender');
    const { queue, errors, attempts } = watched({ name: q, isRecv: false, declare: false, reliable: true });
    const impatient = new AmqpQueue(
      { name: q, isRecv: false, declare: false, reliable: true, reconnectMillis: 50, sendBufferMessages: 0 },
      conn,
    );
    impatient.on('error', () => {});
    queue.connect();
    impatient.connect();
    await until(() => attempts() >= 4, 'four attempts to open');
    const outcome = (send: Promise<void>): Promise<string> =>
      send.then(
        () => 'sent',
        (error: unknown) => (MqError.isInstance(error) ? error.code : 'other'),
      );
    expect(await outcome(impatient.sendMsg(Buffer.from('refused')))).toBe('NOT_CONNECTED');
    // Waits for the queue, within its sendTimeoutMillis.
    const early = outcome(queue.sendMsg(Buffer.from('too early')));
    expect(errors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    await asOther((channel) => channel.assertQueue(q, { durable: true }));
    await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
    expect(await early).toBe('sent');
    await queue.sendMsg(Buffer.from('on time'));
    const kept: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const got = await asOther((channel) => channel.get(q, { noAck: true }));
      kept.push(got === false ? 'nothing' : got.content.toString());
    }
    expect(kept).toEqual(['too early', 'on time']);
    await queue.close();
    await impatient.close();
  }, 20_000);

  it('a queue declared by plain amqplib with x-dead-letter-exchange and x-max-length: mq attaches, sends and receives, and the arguments keep working', async () => {
    const q = foreignName('dlx');
    const dead = name('dlx-dead');
    await asOther(async (channel) => {
      await channel.assertQueue(dead, { durable: true });
      await channel.assertQueue(q, {
        durable: true,
        arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead, 'x-max-length': 3 },
      });
    });
    const out = new AmqpQueue({ name: q, isRecv: false, declare: false, reliable: true }, conn);
    out.connect();
    await waitForStatus(out, 'connected');
    // x-max-length 3 (drop-head, dead-lettered): the first two of five go to the dead-letter queue.
    for (let i = 0; i < 5; i += 1) await out.sendMsg(Buffer.from(`m${i}`));
    const inbox = await receiver(conn, { name: q, declare: false });
    await until(() => inbox.texts.length === 3, 'the three the queue kept');
    expect(inbox.texts).toEqual(['m2', 'm3', 'm4']);
    const deadLettered = await asOther(async (channel) => {
      const texts: string[] = [];
      for (;;) {
        const message = await channel.get(dead, { noAck: true });
        if (message === false) return texts;
        texts.push(message.content.toString());
      }
    });
    expect(deadLettered).toEqual(['m0', 'm1']);
    expect(inbox.errors).toEqual([]);
    await inbox.queue.close();
    await out.close();
  });

  it('with declare: true, matching typed options attach to that queue, and a mismatch is one INVALID_OPTIONS naming the option', async () => {
    const q = name('typed');
    await asOther((channel) =>
      channel.assertQueue(q, {
        durable: true,
        arguments: { 'x-dead-letter-exchange': 'dlx', 'x-max-length': 10, 'x-single-active-consumer': true },
      }),
    );
    const wrong = watched({
      name: q,
      isRecv: false,
      deadLetterExchange: 'dlx',
      maxLength: 11,
      queueArguments: { 'x-single-active-consumer': true },
    });
    wrong.queue.connect();
    await until(() => wrong.attempts() >= 4, 'four attempts to open');
    expect(wrong.errors.map((e) => e.code)).toEqual(['INVALID_OPTIONS']);
    expect(wrong.errors[0]?.message).toMatch(
      /queue '.*' exists on the broker with a different x-max-length \(inequivalent arg 'x-max-length' .*received '11' but current is '10'\): set maxLength to match it, attach to it as it is with declare: false, or delete the queue on the broker/,
    );
    await wrong.queue.close();

    const none = watched({ name: q, isRecv: false });
    none.queue.connect();
    await until(() => none.errors.length === 1, 'the error');
    expect(none.errors[0]?.message).toMatch(
      /different x-(dead-letter-exchange|max-length|single-active-consumer) .*: set (deadLetterExchange|maxLength|queueArguments\['x-single-active-consumer'\]) to match it/,
    );
    await none.queue.close();

    const noSac = watched({ name: q, isRecv: false, deadLetterExchange: 'dlx', maxLength: 10 });
    noSac.queue.connect();
    await until(() => noSac.errors.length === 1, 'the error');
    expect(noSac.errors[0]?.message).toMatch(/set queueArguments\['x-single-active-consumer'\] to match it/);
    await noSac.queue.close();

    const right = watched({
      name: q,
      isRecv: false,
      reliable: true,
      deadLetterExchange: 'dlx',
      maxLength: 10,
      queueArguments: { 'x-single-active-consumer': true },
    });
    right.queue.connect();
    await waitForStatus(right.queue, 'connected');
    await right.queue.sendMsg(Buffer.from('fits'));
    expect(right.errors).toEqual([]);
    await right.queue.close();
  }, 20_000);

  it('what mq declares carries the arguments: a plain amqplib declare with them is equivalent, and reject-publish refuses a reliable send to a full queue', async () => {
    const q = name('declared-args');
    const options = {
      name: q,
      isRecv: false,
      reliable: true,
      maxLength: 2,
      maxLengthBytes: 1_000_000,
      overflow: 'reject-publish',
      messageTtlMillis: 600_000,
      deadLetterExchange: '',
      deadLetterRoutingKey: `${q}.dead`,
    } as const;
    const out = await sender(conn, options);
    // Equivalent arguments or the broker would close this channel with PRECONDITION_FAILED.
    await asOther((channel) =>
      channel.assertQueue(q, {
        durable: true,
        arguments: {
          'x-max-length': 2,
          'x-max-length-bytes': 1_000_000,
          'x-overflow': 'reject-publish',
          'x-message-ttl': 600_000,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': `${q}.dead`,
        },
      }),
    );
    await out.sendMsg(Buffer.from('one'));
    await out.sendMsg(Buffer.from('two'));
    const third = await out.sendMsg(Buffer.from('three')).then(
      () => 'sent',
      (error: unknown) => (MqError.isInstance(error) ? error.code : 'other'),
    );
    expect(third).toBe('REJECTED');
    const kept = await asOther((channel) => channel.checkQueue(q));
    expect(kept.messageCount).toBe(2);
  });

  it('an argument the broker refuses is one INVALID_OPTIONS naming it', async () => {
    const q = name('refused-arg');
    const { queue, errors, attempts } = watched({
      name: q,
      isRecv: false,
      queueArguments: { 'x-max-priority': -1 },
    });
    queue.connect();
    await until(() => attempts() >= 4, 'four attempts to open');
    expect(errors.map((e) => e.code)).toEqual(['INVALID_OPTIONS']);
    expect(errors[0]?.message).toMatch(
      /the broker refused x-max-priority \(invalid arg 'x-max-priority'.*\): fix queueArguments\['x-max-priority'\]/,
    );
    await queue.close();
  });

  it('broadcast: a missing exchange is one NOT_FOUND naming it; once declared, the receiver gets what a plain amqplib app publishes', async () => {
    const exchange = `Legacy:Events/${uniqueId('X')}`;
    exchanges.add(exchange);
    const { queue, errors, attempts } = watched({
      name: exchange,
      isRecv: true,
      broadcast: true,
      declare: false,
    });
    const got: string[] = [];
    queue.setMsgHandler(async (_queue, message: Message) => {
      got.push(message.payload.toString());
      await message.ack();
    });
    queue.connect();
    await until(() => attempts() >= 4, 'four attempts to open');
    expect(errors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect(errors[0]?.message).toMatch(
      new RegExp(
        `^\\[mq/amqp\\] exchange '${exchange.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' does not exist on the broker \\(declare: false\\)`,
      ),
    );
    // A durable topic exchange, which mq (declaring fanout, non-durable) could never have declared itself.
    await asOther((channel) => channel.assertExchange(exchange, 'fanout', { durable: true }));
    await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
    await asOther(async (channel) => channel.publish(exchange, '', Buffer.from('event')));
    await until(() => got.length === 1, 'the event');
    expect(got).toEqual(['event']);
    await queue.close();
  }, 20_000);

  it('an attached queue deleted under a receiver: it waits quietly (one NOT_FOUND) and resumes once the queue is declared again', async () => {
    const q = foreignName('deleted');
    await asOther((channel) => channel.assertQueue(q, { durable: true }));
    const inbox = await receiver(conn, { name: q, declare: false, reconnectMillis: 50 });
    let attempts = 0;
    inbox.queue.on('status', (status) => {
      if (status === 'connecting') attempts += 1;
    });
    await asOther((channel) => channel.deleteQueue(q));
    await until(() => attempts >= 5, 'five attempts to reopen');
    const codes = inbox.errors.map((e) => (e as MqError).code);
    // The lost consumer (the broker cancelled it), then the missing queue, once.
    expect(codes.filter((code) => code === 'NOT_FOUND')).toHaveLength(1);
    expect(codes.every((code) => code === 'NOT_FOUND' || code === 'BROKER')).toBe(true);
    expect(await exists(q)).toBe(false);
    await asOther((channel) => channel.assertQueue(q, { durable: true }));
    await waitForStatus(inbox.queue, 'connected', { timeoutMillis: 10_000 });
    await asOther(async (channel) => channel.sendToQueue(q, Buffer.from('again')));
    await until(() => inbox.texts.includes('again'), 'the message after the queue came back');
    await inbox.queue.close();
  }, 20_000);
});
