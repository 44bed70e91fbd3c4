import type { Scenario } from '../scenarios.js';

/** An open scenario: one sender and its receivers, each on its own connection. */
export interface Session {
  /** Sends one message the way the scenario says (awaiting the broker's confirm when reliable). */
  send(payload: Buffer): Promise<void>;
  /** Closes every connection. */
  close(): Promise<void>;
}

/**
 * Who a column measures: `raw` is the client mq's backend is built on (amqplib, mqtt.js), `mq` is mq, and the
 * peers are the other Node AMQP clients an app could pick instead: `amqp-client` (amqp-client.js) and `acm`
 * (amqp-connection-manager over amqplib); `named` is mq on named queues beside mq's topic routing (`--routing`).
 */
export type ClientName = 'raw' | 'mq' | 'amqp-client' | 'acm' | 'named';

/** Every client, in the order a round runs them (reversed every other round). */
export const CLIENTS: readonly ClientName[] = ['raw', 'amqp-client', 'acm', 'named', 'mq'];

/** Runs scenarios with one client: a raw library or mq. */
export interface Driver {
  /** Which column it fills. */
  readonly name: ClientName;
  /** Opens the sender and receivers for `scenario` on queue/topic `name`; deliveries go to `onDelivery`. */
  open(
    scenario: Scenario,
    name: string,
    onDelivery: (receiver: number, payload: Buffer) => void,
  ): Promise<Session>;
}

/** The AMQP broker benchmarks use: `MQ_BENCH_AMQP_URL`, else RabbitMQ on loopback. */
export const AMQP_URL = process.env.MQ_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** The MQTT broker benchmarks use: `MQ_BENCH_MQTT_URL`, else Mosquitto on loopback. */
export const MQTT_URL = process.env.MQ_BENCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
