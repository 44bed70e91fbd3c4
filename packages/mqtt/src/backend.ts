import { type Backend, defineBackend, SPI_VERSION } from '@mq/core/spi';
import { MqttConnection } from './connection.js';
import { MQTT_SCHEMES, type MqttConnectionOptions } from './options.js';
import { MqttQueue } from './queue.js';
import type { MqttQueueOptions } from './queue-options.js';
import { MQTT_TRAITS } from './traits.js';

/**
 * The `@mq/mqtt` backend descriptor: serves `mqtt:`, `mqtts:`, `ws:` and `wss:` URIs. Capabilities as on
 * Mosquitto 2 (see the README for why each is what it is).
 */
export const mqttBackend: Backend = defineBackend({
  spiVersion: SPI_VERSION,
  name: '@mq/mqtt',
  schemes: [...MQTT_SCHEMES],
  capabilities: MQTT_TRAITS,
  createConnection: (options) => new MqttConnection(options as MqttConnectionOptions),
  // The queue's constructor checks the connection is one of this backend's, and refuses what the traits rule out.
  createQueue: (options, connection) =>
    new MqttQueue(options as MqttQueueOptions, connection as MqttConnection),
});
