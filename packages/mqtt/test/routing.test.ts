import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mqttTestUrl, uniqueId } from '@mq/testkit';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connection, queueName, receiver, sender, until } from './helpers.js';

// Topic routing against plain MQTT clients, both ways (issue 27): a space is the first topic level, each word one
// more level; `*` is `+`, a last `#` is `#`; a group is `$share/<group>/...`. On MQTT 5 and 3.1.1.

const run = promisify(execFile);
const plainClients: MqttClient[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const client of plainClients.splice(0)) await client.endAsync();
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill();
});

/** The broker's host and port, for the mosquitto command-line clients. */
function hostAndPort(): string[] {
  const url = new URL(mqttTestUrl());
  return ['-h', url.hostname, '-p', url.port || '1883'];
}

for (const [protocolVersion, cli] of [
  [5, 'mqttv5'],
  [4, 'mqttv311'],
] as const) {
  const label = protocolVersion === 5 ? 'MQTT 5' : 'MQTT 3.1.1';

  /** A connected plain mqtt.js client, ended after the test. */
  async function plain(): Promise<MqttClient> {
    const client = await connectAsync(mqttTestUrl(), {
      clientId: uniqueId('plain'),
      protocolVersion,
      reconnectPeriod: 0,
    });
    plainClients.push(client);
    return client;
  }

  describe(`topic routing with plain clients over ${label}`, () => {
    it('a plain mqtt.js client publishing sensors/d7/temperature reaches an mq receiver of *.temperature in group ingest, with topic d7.temperature', async () => {
      const sensors = queueName('sensors');
      const conn = await connection({ protocolVersion });
      const { inbox } = await receiver(conn, {
        name: sensors,
        routing: 'topic',
        reliable: true,
        topics: ['*.temperature'],
        group: 'ingest',
      });
      const device = await plain();
      await device.publishAsync(`${sensors}/d7/humidity`, '40', { qos: 1 });
      await device.publishAsync(`${sensors}/d7/temperature`, '21.5', { qos: 1 });
      await device.publishAsync(`${sensors}/d8/temperature`, '19', { qos: 1 });
      await until(() => inbox.messages.length >= 2, 'two temperatures');
      expect(inbox.messages.map((m) => [m.topic, m.payload.toString()])).toEqual([
        ['d7.temperature', '21.5'],
        ['d8.temperature', '19'],
      ]);
    });

    it('mosquitto_pub publishing to the space reaches a broadcast mq receiver of #; a level that cannot be a word arrives percent-encoded', async () => {
      const sensors = queueName('sensors');
      const conn = await connection({ protocolVersion });
      const { inbox } = await receiver(conn, {
        name: sensors,
        routing: 'topic',
        reliable: true,
        topics: ['#'],
        broadcast: true,
      });
      for (const [topic, text] of [
        [`${sensors}/d7/temperature`, 'a'],
        [`${sensors}/d.7/temp`, 'b'],
      ]) {
        await run('mosquitto_pub', [
          ...hostAndPort(),
          '-V',
          cli,
          '-q',
          '1',
          '-t',
          topic as string,
          '-m',
          text as string,
        ]);
      }
      await until(() => inbox.messages.length >= 2, 'both messages');
      expect(inbox.messages.map((m) => [m.topic, m.payload.toString()])).toEqual([
        ['d7.temperature', 'a'],
        ['d%2E7.temp', 'b'],
      ]);
    });

    it('an mq topic sender reaches a plain mqtt.js subscriber of orders/+/created, on topic orders/eu/created', async () => {
      const orders = queueName('orders');
      const subscriber = await plain();
      const got: Array<[string, string]> = [];
      subscriber.on('message', (topic, payload) => got.push([topic, payload.toString()]));
      await subscriber.subscribeAsync(`${orders}/+/created`, { qos: 1 });
      const conn = await connection({ protocolVersion });
      const send = await sender(conn, { name: orders, routing: 'topic', reliable: true });
      await send.sendMsg(Buffer.from('no'), { topic: 'eu.deleted' });
      await send.sendMsg(Buffer.from('yes'), { topic: 'eu.created' });
      await until(() => got.length >= 1, 'the matching message');
      // Past the second send's PUBACK, a message for eu.deleted would have come first (one publisher, in order).
      expect(got).toEqual([[`${orders}/eu/created`, 'yes']]);
    });

    it("an mq topic sender reaches mosquitto_sub -t 'orders/+/created'", async () => {
      const orders = queueName('orders');
      // Line-buffered: piped, its output would wait in a block buffer until it exits.
      const child = spawn(
        'stdbuf',
        [
          '-oL',
          'mosquitto_sub',
          ...hostAndPort(),
          '-V',
          cli,
          '-q',
          '1',
          '-d',
          '-v',
          '-C',
          '1',
          '-i',
          uniqueId('sub'),
          '-t',
          `${orders}/+/created`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      // With -d it says when the broker answered its SUBSCRIBE: only then can it get what is sent.
      await until(() => output.includes('SUBACK'), 'mosquitto_sub subscribed');
      const conn = await connection({ protocolVersion });
      const send = await sender(conn, { name: orders, routing: 'topic', reliable: true });
      await send.sendMsg(Buffer.from('x1'), { topic: 'us.deleted' });
      await send.sendMsg(Buffer.from('x2'), { topic: 'eu.created' });
      expect(await exited).toBe(0);
      expect(output).toContain(`${orders}/eu/created x2`);
      // The payload x1 as mosquitto_sub -v prints it ('<topic> x1'); the random client id may hold 'x1' too.
      expect(output.split('\n').filter((line) => line.endsWith(' x1'))).toEqual([]);
    });
  });
}

describe('topic queue options on MQTT', () => {
  it('refuses sharedPrefix on a topic queue, naming it: groups are $share/<group>/', async () => {
    const conn = await connection();
    const { MqttQueue } = await import('../src/index.js');
    expect(
      () =>
        new MqttQueue(
          {
            name: queueName('s'),
            isRecv: true,
            routing: 'topic',
            topics: ['a'],
            group: 'g',
            sharedPrefix: '',
          },
          conn,
        ),
    ).toThrow(/sharedPrefix is for receivers routed by name/);
  });

  it('lists a receiver’s filters: one per pattern, or the whole space when patterns overlap', async () => {
    const conn = await connection();
    const { MqttQueue } = await import('../src/index.js');
    const space = queueName('s');
    const separate = new MqttQueue(
      { name: space, isRecv: true, routing: 'topic', topics: ['*.created', 'eu.deleted'], group: 'g' },
      conn,
    );
    expect(separate.topicFilters).toEqual([`$share/g/${space}/+/created`, `$share/g/${space}/eu/deleted`]);
    const overlapping = new MqttQueue(
      { name: space, isRecv: true, routing: 'topic', topics: ['*.created', 'eu.#'], broadcast: true },
      conn,
    );
    expect(overlapping.topicFilters).toEqual([`${space}/#`]);
  });
});

describe('topic conversions on the hot path', () => {
  it('reads a packet topic of word levels in one step, and any other one level by level, alike', async () => {
    const { topicOfPacket, spaceTopic, LastConversion } = await import('../src/topics.js');
    const { topicOfLevels } = await import('@mq/core/spi');
    const levels = ['d7', 'temperature', 'A_b-9', 'x'.repeat(64), 'x'.repeat(65), '', 'a.b', 'a b', 'é', '+'];
    // Every packet topic of 1 to 3 of those levels after the space: the one-test path and the level-by-level one agree.
    const cases = levels.flatMap((a) => [
      [a],
      ...levels.flatMap((b) => [[a, b], ...levels.map((c) => [a, b, c])]),
    ]);
    for (const rest of cases) {
      expect(topicOfPacket(`space/${rest.join('/')}`)).toBe(topicOfLevels(rest));
    }
    expect(topicOfPacket('space')).toBe('');
    expect(spaceTopic('orders', 'eu.created.v2')).toBe('orders/eu/created/v2');
    // The remembered conversion converts again whenever its input changes.
    let calls = 0;
    const conversion = new LastConversion((from) => {
      calls += 1;
      return `<${from}>`;
    });
    expect([conversion.of('a'), conversion.of('a'), conversion.of('b'), conversion.of('a')]).toEqual([
      '<a>',
      '<a>',
      '<b>',
      '<a>',
    ]);
    expect(calls).toBe(3);
    expect(conversion.of('')).toBe('<>');
  });
});
