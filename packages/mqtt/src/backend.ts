import { type Backend, defineBackend, ownConnection, SPI_VERSION } from '@mq/core';
import { MqttConnection } from './connection.js';
import { MQTT_SCHEMES, type MqttConnectionOptions, PKG } from './options.js';
import { MqttQueue } from './queue.js';
import type { MqttQueueOptions } from './queue-options.js';

/**
 * The `@mq/mqtt` backend descriptor: serves `mqtt:`, `mqtts:`, `ws:` and `wss:` URIs. Capabilities as on
 * Mosquitto 2 (see the README for why each is what it is).
 */
export const mqttBackend: Backend = defineBackend({
  spiVersion: SPI_VERSION,
  name: '@mq/mqtt',
  schemes: [...MQTT_SCHEMES],
  capabilities: {
    broadcast: true,
    broadcastIsolated: false,
    nackRequeue: true,
    redeliverUnacked: false,
    retainUnicast: false,
    prefetch: false,
    // MQTT cannot tell two subscriptions of one topic on one connection apart: the second is refused.
    // `uri` may list several brokers (a cluster): core rotates, the connection dials `addressIndex`.
    multipleAddresses: true,
    sameConnectionReceivers: false,
    // MQTT 5 message properties (the default protocol); an MQTT 3.1.1 connection refuses metadata: UNSUPPORTED.
    metadata: true,
    // MQTT 5: dead letters are QoS 1 PUBLISHes, PUBACKed before the original is (at least once); 3.1.1 refuses.
    deadLetter: true,
    countsDeliveries: true,
    movesExactlyOnce: false,
    // MQTT cannot hand a message back: the receiver it failed on retries it.
    retriesBehind: false,
    // A nack hands the message to the same receiver again, broadcast or not.
    broadcastRedelivery: true,
  },
  createConnection: (options) => new MqttConnection(options as MqttConnectionOptions),
  createQueue: (options, connection) =>
    new MqttQueue(options as MqttQueueOptions, ownConnection(PKG, connection, MqttConnection)),
});
