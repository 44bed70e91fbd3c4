import { uniqueId } from '@mq/testkit';
import * as amqp from 'amqplib';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AmqpConnection, AmqpQueue } from '../src/index.js';
import { brokerUrl, deleteTopology, projectNode, rabbitmqctl, skipNote, until, useNode } from './broker.js';
import { connected, queueName, receiver, sender } from './helpers.js';

// On the amqp project's own RabbitMQ node (these tests use rabbitmqctl): never the broker under test.
const { node: projectBroker, skip } = projectNode();
if (projectBroker) useNode(projectBroker);

const queues: string[] = [];
const exchanges: string[] = [];
afterAll(() => deleteTopology(queues, exchanges), 30_000);

let plain: amqp.ChannelModel;
let channel: amqp.Channel;
let conn: AmqpConnection;
let channelErrors: Error[];

beforeEach(async () => {
  plain = await amqp.connect(brokerUrl());
  plain.on('error', () => {});
  channel = await plain.createChannel();
  channelErrors = [];
  channel.on('error', (error: Error) => channelErrors.push(error));
  conn = await connected();
});

afterEach(async () => {
  await conn.close();
  await plain.close().catch(() => {});
});

// The arguments general-mq (the original) uses: a plain amqplib client declaring with them must see no
// precondition failure (which would close its channel), and the two must exchange messages.
describe.skipIf(skip !== undefined)(`broker topology is the same as general-mq${skipNote(skip)}`, () => {
  it('unicast: a durable queue named after the queue, reached through the default exchange', async () => {
    const name = queueName('topo-uni');
    queues.push(name);
    const inbox = await receiver(conn, { name, reliable: true });
    const send = await sender(conn, { name, reliable: true });
    const declared = await channel.assertQueue(name, { durable: true });
    expect(declared.queue).toBe(name);
    // A general-mq sender publishes through the default exchange with the queue name as routing key.
    channel.publish('', name, Buffer.from('from-general-mq'), { persistent: false });
    await send.sendMsg(Buffer.from('from-mq'));
    await until(() => inbox.texts.length === 2, 'both messages');
    expect([...inbox.texts].sort()).toEqual(['from-general-mq', 'from-mq']);
    const [row] = (await rabbitmqctl('list_queues', 'name', 'durable', 'exclusive', 'auto_delete'))
      .split('\n')
      .filter((line) => line.startsWith(`${name}\t`));
    expect(row).toBe(`${name}\ttrue\tfalse\tfalse`);
    expect(channelErrors).toEqual([]);
  });

  it('broadcast: a non-durable fanout exchange; each receiver has its own exclusive server-named queue', async () => {
    const name = queueName('topo-fan');
    exchanges.push(name);
    const a = await receiver(conn, { name, broadcast: true });
    const b = await receiver(conn, { name, broadcast: true });
    const send = await sender(conn, { name, broadcast: true, reliable: true });
    await channel.assertExchange(name, 'fanout', { durable: false });
    // A general-mq receiver: an exclusive server-named queue bound to the exchange.
    const { queue: theirs } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(theirs, name, '');
    await send.sendMsg(Buffer.from('to-all'));
    channel.publish(name, '', Buffer.from('from-general-mq'));
    await until(() => a.texts.length === 2 && b.texts.length === 2, 'both messages at both receivers');
    const got = await channel.get(theirs, { noAck: true });
    expect(got === false ? 'nothing' : got.content.toString()).toBe('to-all');
    const exchange = (await rabbitmqctl('list_exchanges', 'name', 'type', 'durable', 'auto_delete'))
      .split('\n')
      .find((line) => line.startsWith(`${name}\t`));
    expect(exchange).toBe(`${name}\tfanout\tfalse\tfalse`);
    const bound = (await rabbitmqctl('list_bindings', 'source_name', 'destination_name', 'destination_kind'))
      .split('\n')
      .filter((line) => line.startsWith(`${name}\t`));
    // Ours (two receivers) and theirs, each an exclusive server-named queue.
    expect(bound).toHaveLength(3);
    for (const line of bound)
      expect(line).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')}\\tamq\\.gen-\\S+\\tqueue$`));
    expect(channelErrors).toEqual([]);
  });

  it('a broadcast receiver deletes its temporary queue when it closes', async () => {
    const name = queueName('topo-temp');
    exchanges.push(name);
    const inbox = await receiver(conn, { name, broadcast: true });
    const boundQueues = async (): Promise<string[]> =>
      (await rabbitmqctl('list_bindings', 'source_name', 'destination_name'))
        .split('\n')
        .filter((line) => line.startsWith(`${name}\t`))
        .map((line) => line.split('\t')[1]!);
    const [temp] = await boundQueues();
    expect(temp).toMatch(/^amq\.gen-/);
    await inbox.queue.close();
    // Gone, not just unbound: a passive declare of it fails with 404 (over AMQP: one rabbitmqctl call less).
    const probe = await plain.createChannel();
    probe.on('error', () => {});
    const gone = await probe.checkQueue(temp as string).then(
      () => 'still there',
      (error: Error) => error.message,
    );
    expect(gone).toMatch(/NOT_FOUND/);
  });

  it('a broadcast receiver whose channel the broker closes while it opens leaves no temporary queue behind, however often it retries', async () => {
    const name = queueName('topo-refused');
    exchanges.push(name);
    // A user that may declare and bind its temporary queue but not read (consume) from it: every open fails at
    // basic.consume with ACCESS_REFUSED, after the queue was declared and bound.
    const user = `mq-noread-${uniqueId('u')}`;
    await rabbitmqctl('add_user', user, 'pw');
    await rabbitmqctl('set_permissions', '-p', '/', user, '.*', '.*', '^(?!amq\\.gen).*');
    const url = new URL(brokerUrl());
    url.username = user;
    url.password = 'pw';
    const refused = await connected({ uri: url.toString() });
    try {
      const queue = new AmqpQueue({ name, isRecv: true, broadcast: true, reconnectMillis: 100 }, refused);
      const errors: Error[] = [];
      queue.on('error', (error) => errors.push(error));
      queue.setMsgHandler(async (_q, message) => message.ack());
      queue.connect();
      await until(() => errors.length >= 4, 'four refused opens');
      expect(errors.every((error) => error.message.includes('ACCESS_REFUSED'))).toBe(true);
      // The temporary queues bound to this test's exchange (each attempt binds its own before it is refused): at
      // most the latest attempt's, not one per attempt. One rabbitmqctl call: each costs a VM boot under load.
      const bound = (await rabbitmqctl('list_bindings', 'source_name', 'destination_name'))
        .split('\n')
        .filter((line) => line.startsWith(`${name}\t`));
      expect(bound.length).toBeLessThanOrEqual(1);
      await queue.close();
    } finally {
      await refused.close();
      await rabbitmqctl('delete_user', user);
    }
    // Four rabbitmqctl calls, each a short-lived Erlang VM: seconds apiece when CI runs four test files at once.
  }, 90_000);
});
