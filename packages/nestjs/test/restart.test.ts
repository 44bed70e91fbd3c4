import { MqError } from '@mq/core';
import {
  type MosquittoBroker,
  mosquittoMissing,
  type RabbitNode,
  rabbitmqMissing,
  startMosquitto,
  startRabbitNode,
  uniqueId,
} from '@mq/testkit';
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MqEventPattern, MqHealthIndicator, type MqModuleOptions } from '../src/index.js';
import { names, startMicroservice, until } from './app.js';

// Restarts brokers: throwaway ones of this file's own (@mq/testkit), never the shared RabbitMQ and Mosquitto.
const rabbitMissing = rabbitmqMissing();
const mqttMissing = mosquittoMissing();
let rabbit: RabbitNode | undefined;
let mosquitto: MosquittoBroker | undefined;
beforeAll(async () => {
  const [node, broker] = await Promise.all([
    rabbitMissing ? undefined : startRabbitNode(),
    mqttMissing ? undefined : startMosquitto({ persistence: true }),
  ]);
  rabbit = node;
  mosquitto = broker;
}, 90_000);
afterAll(async () => {
  await Promise.all([rabbit?.dispose(), mosquitto?.dispose()]);
}, 60_000);

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

interface Broker {
  options: () => MqModuleOptions;
  stop: () => Promise<void>;
  start: () => Promise<void>;
}

const RECONNECT = { reconnectMillis: 200, reconnectMaxMillis: 1000 };

/**
 * No send waits for the link (`sendBufferMessages: 0`): an emit while the broker is down rejects at once, so that
 * the events counted are the ones the broker confirmed before the stop or once everything was back.
 */
const NO_WAIT = { sendBufferMessages: 0 };

const brokers: [string, string | undefined, () => Broker][] = [
  [
    'RabbitMQ (stop_app / start_app)',
    rabbitMissing,
    () => ({
      // persistent: what the broker confirmed survives its restart.
      options: () => ({
        uri: rabbit!.url,
        connection: RECONNECT,
        queueDefaults: { persistent: true, ...NO_WAIT },
      }),
      stop: async () => {
        await rabbit!.ctl('stop_app');
      },
      start: async () => {
        await rabbit!.ctl('start_app');
      },
    }),
  ],
  [
    'Mosquitto (stop / start, persistence on)',
    mqttMissing,
    () => ({
      // A persistent session, so that what the broker confirmed waits for the receiver across the restart.
      options: () => ({
        uri: mosquitto!.url,
        connection: RECONNECT,
        serverConnection: { clientId: uniqueId('nest'), cleanSession: false },
        queueDefaults: NO_WAIT,
      }),
      stop: () => mosquitto!.stop(),
      start: () => mosquitto!.start(),
    }),
  ],
];

describe.each(brokers)('a broker restart mid-stream: %s', (label, missing, brokerOf) => {
  it.skipIf(missing !== undefined)(
    `consumers come back by themselves, health goes down then up, nothing confirmed is lost${missing ? ` (skipped: ${missing})` : ''}`,
    async () => {
      const broker = brokerOf();
      const queue = names('restart');
      const handled = new Map<number, number>();
      @Controller()
      class Events {
        @MqEventPattern(queue.events, { prefetch: 5 })
        async onEvent(@Payload() event: { id: number }): Promise<void> {
          await new Promise((resolve) => setTimeout(resolve, 10));
          handled.set(event.id, (handled.get(event.id) ?? 0) + 1);
        }
      }
      const { app, client } = await startMicroservice(broker.options(), { controllers: [Events] });
      closers.push(() => app.close());
      const mq = app.get(MqHealthIndicator);
      // The module's client starts connecting at bootstrap: down until it has.
      await until(() => mq.isHealthy().mq?.status === 'up', 'health up once the client is connected');

      // A backlog the slow handler is still working through when the broker goes away.
      const confirmed: number[] = [];
      const emit = async (id: number): Promise<void> => {
        await lastValueFrom(client.emit(queue.events, { id }));
        confirmed.push(id);
      };
      await Promise.all(Array.from({ length: 100 }, (_, id) => emit(id)));
      await until(() => handled.size >= 10, 'the first events handled');
      await broker.stop();
      await until(() => mq.isHealthy().mq?.status === 'down', `health down (${label})`);
      const problems = mq.isHealthy().mq?.problems ?? [];
      expect(problems.some((p) => p.startsWith('server: connection'))).toBe(true);
      expect(
        problems.some((p) => p.startsWith(`server: receiver '${queue.events}' has no consumer attached`)),
      ).toBe(true);
      // While it is down, emit fails at once with a code (NO_WAIT): nothing is buffered.
      const whileDown = await lastValueFrom(client.emit(queue.events, { id: -1 })).catch((e: unknown) => e);
      expect(
        MqError.hasCode(whileDown, 'NOT_CONNECTED') || MqError.hasCode(whileDown, 'CONNECTION_LOST'),
      ).toBe(true);

      await broker.start();
      await until(() => mq.isHealthy().mq?.status === 'up', 'health up again', 60_000);
      const report = mq.isHealthy().mq;
      expect(report?.transports.find((t) => t.name === 'server')?.queues).toMatchObject([
        { pattern: queue.events, side: 'receiver', status: 'connected' },
      ]);
      await Promise.all(Array.from({ length: 50 }, (_, i) => emit(100 + i)));
      await until(() => confirmed.every((id) => handled.has(id)), 'every confirmed event handled', 60_000);
      expect(handled.has(-1)).toBe(false);
      // At least once: an event in a handler when the link dropped may come again; none is lost.
      expect(confirmed).toHaveLength(150);
    },
    120_000,
  );
});

describe('a receiver whose consumer the broker cancelled while the connection stays up (RabbitMQ, delete_queue)', () => {
  it.skipIf(rabbitMissing !== undefined)(
    `health goes down naming the receiver, the connection still up, then mq re-attaches and events flow${rabbitMissing ? ` (skipped: ${rabbitMissing})` : ''}`,
    async () => {
      const queue = names('cancelled');
      const handled: unknown[] = [];
      @Controller()
      class Events {
        @MqEventPattern(queue.events)
        onEvent(@Payload() event: unknown): void {
          handled.push(event);
        }
      }
      const { app, client } = await startMicroservice({ uri: rabbit!.url }, { controllers: [Events] });
      closers.push(() => app.close());
      const mq = app.get(MqHealthIndicator);
      await until(() => mq.isHealthy().mq?.status === 'up', 'health up');
      let sawReceiverDown = false;
      const watching = setInterval(() => {
        const report = mq.isHealthy().mq;
        const server = report?.transports.find((t) => t.name === 'server');
        if (server?.connection?.status === 'connected' && server.queues[0]?.status !== 'connected')
          sawReceiverDown ||= report?.status === 'down';
      }, 5);
      try {
        await rabbit!.ctl('delete_queue', queue.events);
        await until(() => sawReceiverDown, 'health down for the receiver alone');
        await until(() => mq.isHealthy().mq?.status === 'up', 'the receiver re-attached');
      } finally {
        clearInterval(watching);
      }
      await lastValueFrom(client.emit(queue.events, { after: 'cancel' }));
      await until(() => handled.length === 1, 'an event after the consumer came back');
    },
    60_000,
  );
});
