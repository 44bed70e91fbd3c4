import {
  BaseQueue,
  type Connection,
  ownConnection,
  type QueueSetup,
  type UntypedQueueOptions,
} from '@mq/core/spi';
import { MqttConnection } from './connection.js';
import { type MqttConnectionDriver, mqttDriverOf } from './connection-driver.js';
import { errors } from './errors.js';
import { MqttQueueDriver } from './queue-driver.js';
import {
  type MqttQueueOptions,
  type ResolvedMqttQueueOptions,
  resolveMqttQueueOptions,
  subscriptionFilters,
} from './queue-options.js';
import { MQTT_311_TRAITS, MQTT_TRAITS } from './traits.js';

/**
 * A sender or receiver on an {@link MqttConnection}. Topic = queue name; best effort = QoS 0, reliable = QoS 1;
 * broadcast receivers subscribe to the topic, unicast receivers to `<sharedPrefix><name>`. A reliable
 * receiver's PUBACK goes out only when its handler calls `ack()`.
 */
export class MqttQueue<T = Buffer> extends BaseQueue<ResolvedMqttQueueOptions, T> {
  /** The MQTT-specific options after validation. */
  readonly mqttOptions: Readonly<ResolvedMqttQueueOptions>;
  /** The topic filter a receiver subscribes to (a topic receiver's first; see `topicFilters`). */
  readonly topicFilter: string;
  /** Every topic filter a receiver subscribes to: one, or a topic receiver's (one per pattern, or `<space>/#`). */
  readonly topicFilters: readonly string[];

  /** Validates the options and that `connection` is an {@link MqttConnection}; the queue starts `closed`. */
  constructor(options: MqttQueueOptions<T>, connection: MqttConnection) {
    super(mqttQueueSetup(options, connection));
    this.mqttOptions = this.options;
    this.topicFilters = subscriptionFilters(this.options);
    this.topicFilter = this.topicFilters[0] as string;
  }
}

/**
 * What an {@link MqttQueue} passes to `BaseQueue`: its validated options, the traits of its connection's protocol
 * ({@link MQTT_TRAITS}, narrowed for MQTT 3.1.1) and its driver. Throws `INVALID_OPTIONS` for bad options or a
 * connection of another backend.
 */
function mqttQueueSetup(
  options: UntypedQueueOptions<MqttQueueOptions>,
  connection: Connection,
): QueueSetup<ResolvedMqttQueueOptions> {
  const resolved = resolveMqttQueueOptions(options);
  const conn = ownConnection(errors, connection, MqttConnection);
  const driver = mqttDriverOf(conn) as MqttConnectionDriver;
  const filters = subscriptionFilters(resolved);
  // A named receiver's one filter as a string, as before; a topic receiver's list.
  const filter = filters.length === 1 && resolved.routing !== 'topic' ? (filters[0] as string) : filters;
  return {
    errors,
    options: resolved,
    connection: conn,
    traits: conn.settings.protocolVersion === 5 ? MQTT_TRAITS : MQTT_311_TRAITS,
    driver: (core) => new MqttQueueDriver(core, conn, driver, filter),
  };
}
