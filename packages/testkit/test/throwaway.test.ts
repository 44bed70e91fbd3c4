import { existsSync } from 'node:fs';
import {
  type MosquittoBroker,
  mosquittoMissing,
  type RabbitNode,
  rabbitmqMissing,
  startMosquitto,
  startRabbitNode,
} from '@mq/testkit';
import * as amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const rabbitSkip = rabbitmqMissing();
const mosquittoSkip = mosquittoMissing();

describe.skipIf(rabbitSkip !== undefined)(
  `a throwaway RabbitMQ node${rabbitSkip ? ` (skipped: ${rabbitSkip})` : ''}`,
  () => {
    let node: RabbitNode;
    beforeAll(async () => {
      node = await startRabbitNode();
    }, 120_000);
    afterAll(() => node?.dispose(), 60_000);

    it('runs on its own port, not the shared broker, takes AMQP connections and answers rabbitmqctl', async () => {
      expect(node.info.port).not.toBe(5672);
      const model = await amqp.connect(node.url);
      const channel = await model.createChannel();
      await channel.assertQueue('throwaway.check', { durable: true });
      expect(await node.ctl('list_queues', 'name')).toContain('throwaway.check');
      await model.close();
    }, 30_000);

    it('keeps durable data across a kill and a start, and drops clients on restartApp', async () => {
      const model = await amqp.connect(node.url);
      const closed = new Promise<void>((resolve) => model.once('close', () => resolve()));
      model.on('error', () => {});
      const channel = await model.createConfirmChannel();
      await channel.assertQueue('throwaway.kept', { durable: true });
      channel.sendToQueue('throwaway.kept', Buffer.from('kept'), { persistent: true });
      await channel.waitForConfirms();
      await node.restartApp();
      await closed;
      await node.kill();
      await node.start();
      const again = await amqp.connect(node.url);
      const check = await (await again.createChannel()).checkQueue('throwaway.kept');
      expect(check.messageCount).toBe(1);
      await again.close();
    }, 120_000);

    it('is gone, with its folder, after dispose() (the last test: it disposes the node the others used)', async () => {
      const folder = node.info.ctlEnv.HOME as string;
      expect(existsSync(folder)).toBe(true);
      await node.dispose();
      expect(existsSync(folder)).toBe(false);
      await expect(amqp.connect(node.url)).rejects.toThrow(/ECONNREFUSED/);
    }, 60_000);
  },
);

describe.skipIf(mosquittoSkip !== undefined)(
  `a throwaway Mosquitto${mosquittoSkip ? ` (skipped: ${mosquittoSkip})` : ''}`,
  () => {
    let broker: MosquittoBroker;
    beforeAll(async () => {
      broker = await startMosquitto();
    }, 30_000);
    afterAll(() => broker?.dispose());

    it('runs on its own port and keeps a persistent session and its QoS 1 messages across a stop and a start', async () => {
      expect(broker.port).not.toBe(1883);
      const clientId = `throwaway-${process.pid}`;
      const first = await mqtt.connectAsync(broker.url, { clientId, clean: false, reconnectPeriod: 0 });
      await first.subscribeAsync('throwaway/kept', { qos: 1 });
      await first.endAsync();
      const sender = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      await sender.publishAsync('throwaway/kept', 'kept', { qos: 1 });
      await sender.endAsync();
      await broker.stop();
      await broker.start();
      // Listening before the CONNACK: the stored message may come in the same read as the CONNACK.
      const back = mqtt.connect(broker.url, { clientId, clean: false, reconnectPeriod: 0 });
      const got = await new Promise<string>((resolve) =>
        back.on('message', (_t, p) => resolve(p.toString())),
      );
      expect(got).toBe('kept');
      await back.endAsync();
    }, 30_000);
  },
);
