import { mqttTestUrl, uniqueId } from '@mq/testkit';
import { connect, connectAsync, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import {
  forgetSecrets,
  holdWritesUntilImmediate,
  PUBACK_DEFERRED,
  quietOrRedactedLog,
  sendPuback,
} from '../src/mqttjs-internals.js';
import { until } from './helpers.js';

/** Connects with `handleMessage` set first: a resumed session delivers as soon as the broker accepts the link. */
async function connectWith(
  options: IClientOptions,
  handle: (client: MqttClient, packet: IPublishPacket, callback: (error?: Error) => void) => void,
): Promise<MqttClient> {
  const client = connect(mqttTestUrl(), { ...options, manualConnect: true });
  client.handleMessage = (packet, callback) => handle(client, packet, callback);
  const connected = new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  client.connect();
  await connected;
  return client;
}

// Canaries: what src/mqttjs-internals.ts relies on, checked against the pinned mqtt.js and a real broker. If an
// mqtt.js upgrade fails one of these, fix that file before anything else.
describe('what @mq/mqtt relies on in mqtt.js', () => {
  it("a PUBACK's reason code reaches 'packetreceive' before the publish callback, which gets the packet id (NO_RECEIVER, #25.1)", async () => {
    const client = await connectAsync(mqttTestUrl(), { protocolVersion: 5, reconnectPeriod: 0 });
    const order: string[] = [];
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'puback') order.push(`puback ${packet.messageId} ${packet.reasonCode}`);
    });
    const id = await new Promise<number | undefined>((resolve, reject) => {
      // Nobody subscribes to this topic: Mosquitto answers 0x10, "no matching subscribers", and mqtt.js resolves.
      client.publish(`mq-test/nobody/${uniqueId('t')}`, 'x', { qos: 1 }, (error, packet) => {
        order.push('callback');
        if (error) reject(error);
        else resolve(packet?.messageId);
      });
    });
    expect(id).toBeTypeOf('number');
    expect(order).toEqual([`puback ${id} 16`, 'callback']);
    await client.endAsync();
  });

  it('handles the next incoming packet only once handleMessage called back: a held callback holds the reads (prefetch, #25.6)', async () => {
    const topic = `mq-test/gate/${uniqueId('t')}`;
    const seen: string[] = [];
    let release: () => void = () => {};
    const client = await connectWith(
      { protocolVersion: 5, reconnectPeriod: 0 },
      (_client, packet, callback) => {
        seen.push(packet.payload.toString());
        if (seen.length === 1) release = () => callback();
        else callback();
      },
    );
    await client.subscribeAsync(topic, { qos: 1 });
    const publisher = await connectAsync(mqttTestUrl(), { reconnectPeriod: 0 });
    for (const text of ['a', 'b', 'c']) await publisher.publishAsync(topic, text, { qos: 1 });
    await until(() => seen.length === 1, 'the first message');
    // Held: the others wait, in the socket or mqtt.js's parse queue (a quiet period, as the contract's quiet()).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen).toEqual(['a']);
    release();
    await until(() => seen.length === 3, 'the other two once the first called back');
    await Promise.all([client.endAsync(), publisher.endAsync()]);
  });

  it('a client has a private packet writer, a debug logger with `enabled`, and keeps the password in its options', () => {
    const client = connect(mqttTestUrl(), { manualConnect: true, username: 'u', password: 'secret' });
    expect(typeof (client as unknown as { _sendPacket?: unknown })._sendPacket).toBe('function');
    expect('enabled' in client.log).toBe(true);
    quietOrRedactedLog(client);
    expect((client.options as Record<string, unknown>).password).toBe('secret');
    forgetSecrets(client);
    expect((client.options as Record<string, unknown>).password).toBeUndefined();
    // Never connected (manualConnect): no socket and no timer to end.
  });

  it('over TLS, Node keeps a copy of the options mqtt.js passes (password included) on the socket, and forgetSecrets() empties it', () => {
    const client = connect('mqtts://127.0.0.1:1', {
      manualConnect: true,
      reconnectPeriod: 0,
      username: 'u',
      password: Buffer.from('secret'),
    });
    client.on('error', () => {});
    client.connect();
    const stream = client.stream as unknown as Record<symbol, Record<string, unknown> | undefined>;
    const copy = Object.getOwnPropertySymbols(stream).find((key) => key.description === 'connect-options');
    expect(copy, 'tls.connect keeps Symbol(connect-options)').toBeDefined();
    expect(String(stream[copy as symbol]?.password)).toBe('secret');
    forgetSecrets(client);
    expect(stream[copy as symbol]?.password).toBeUndefined();
    expect((client.options as Record<string, unknown>).password).toBeUndefined();
    client.end(true);
  });

  it('a handleMessage callback given an error skips the PUBACK, and sendPuback() settles the message later', async () => {
    const clientId = uniqueId('canary');
    const topic = uniqueId('canary-topic');
    const options = {
      clientId,
      clean: false,
      protocolVersion: 5 as const,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: 60 },
    };
    const publisher = await connectAsync(mqttTestUrl(), { reconnectPeriod: 0 });
    try {
      // First life: take the message without acking it.
      const first = await connectAsync(mqttTestUrl(), options);
      const held: IPublishPacket[] = [];
      first.handleMessage = (packet, callback) => {
        held.push(packet);
        callback(PUBACK_DEFERRED);
      };
      await first.subscribeAsync(topic, { qos: 1 });
      await publisher.publishAsync(topic, 'once', { qos: 1 });
      await until(() => held.length === 1, 'the first delivery');
      await first.endAsync(true);
      // Second life: the broker resends it (no PUBACK went out); this time it is acked by hand.
      const again: IPublishPacket[] = [];
      const second = await connectWith(options, (client, packet, callback) => {
        again.push(packet);
        sendPuback(client, packet.messageId as number);
        callback(PUBACK_DEFERRED);
      });
      await until(() => again.length === 1, 'the redelivery of the unacked message');
      expect(again[0]!.payload.toString()).toBe('once');
      await second.endAsync();
      // Third life: a message sent meanwhile comes, and the first does not come again (the broker would resend
      // an unacked one before it), so the hand-made PUBACK settled it.
      await publisher.publishAsync(topic, 'next', { qos: 1 });
      const later: string[] = [];
      const third = await connectWith(options, (_client, packet, callback) => {
        later.push(packet.payload.toString());
        callback();
      });
      await until(() => later.includes('next'), 'the message sent while away');
      expect(later).toEqual(['next']);
      await third.endAsync();
    } finally {
      await publisher.endAsync();
      // Drop the session, whatever happened.
      const cleanup = await connectAsync(mqttTestUrl(), {
        ...options,
        clean: true,
        properties: { sessionExpiryInterval: 0 },
      });
      await cleanup.endAsync();
    }
  }, 20_000);

  it('PUBACKs written while holdWritesUntilImmediate holds the socket leave in one write, and the broker takes them all', async () => {
    const topic = uniqueId('canary-hold');
    const options = {
      clientId: uniqueId('canary'),
      clean: false,
      protocolVersion: 5 as const,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: 60 },
    };
    const publisher = await connectAsync(mqttTestUrl(), { reconnectPeriod: 0 });
    try {
      const held: IPublishPacket[] = [];
      const receiver = await connectWith(options, (_client, packet, callback) => {
        held.push(packet);
        callback(PUBACK_DEFERRED);
      });
      await receiver.subscribeAsync(topic, { qos: 1 });
      // Fewer than Mosquitto's in-flight window (20 by default), so that all are delivered before any PUBACK.
      for (let i = 0; i < 15; i += 1) await publisher.publishAsync(topic, `m${i}`, { qos: 1 });
      await until(() => held.length === 15, 'the 15 deliveries');
      const stream = receiver.stream as unknown as Record<string, (...args: unknown[]) => unknown>;
      let writes = 0;
      for (const method of ['_write', '_writev']) {
        const original = stream[method];
        if (typeof original !== 'function') continue;
        stream[method] = function counted(this: unknown, ...args: unknown[]) {
          writes += 1;
          return original.apply(this, args);
        };
      }
      // Each in a tick of its own, as handlers ack: mqtt-packet alone would write each one on its own.
      for (const packet of held) {
        await new Promise<void>((resolve) => process.nextTick(resolve));
        holdWritesUntilImmediate(receiver);
        sendPuback(receiver, packet.messageId as number);
      }
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(writes).toBeLessThanOrEqual(2);
      expect(writes).toBeGreaterThanOrEqual(1);
      await receiver.endAsync();
      // The session resumes with nothing to resend: every held PUBACK reached the broker.
      await publisher.publishAsync(topic, 'after', { qos: 1 });
      const later: string[] = [];
      const again = await connectWith(options, (_client, packet, callback) => {
        later.push(packet.payload.toString());
        callback();
      });
      await until(() => later.includes('after'), 'the message sent while away');
      expect(later).toEqual(['after']);
      await again.endAsync();
    } finally {
      await publisher.endAsync();
      const cleanup = await connectAsync(mqttTestUrl(), {
        ...options,
        clean: true,
        properties: { sessionExpiryInterval: 0 },
      });
      await cleanup.endAsync();
    }
  }, 20_000);
});
