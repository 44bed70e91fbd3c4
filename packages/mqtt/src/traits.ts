import { narrowTraits, type Traits } from '@mq/core/spi';

/**
 * What `@mq/mqtt` can do on Mosquitto 2 over MQTT 5 (see the README for why each is what it is). Said once, for
 * the descriptor (`mqttBackend`) and for every `MqttQueue`, narrowed for an MQTT 3.1.1 connection
 * ({@link MQTT_311_TRAITS}).
 */
export const MQTT_TRAITS: Traits = Object.freeze({
  broadcast: true,
  broadcastIsolated: false,
  nackRequeue: true,
  redeliverUnacked: false,
  retainUnicast: false,
  // `prefetch` only bounds what a receiver holds in the process: the broker window (per connection) may be smaller.
  prefetch: false,
  // `uri` may list several brokers (a cluster): core rotates, the connection dials `addressIndex`.
  multipleAddresses: true,
  // MQTT cannot tell two subscriptions of one topic on one connection apart: core refuses the second.
  sameConnectionReceivers: false,
  // MQTT 5 message properties (the default protocol).
  metadata: true,
  // Dead letters are QoS 1 PUBLISHes, PUBACKed before the original is (at least once). Retries stay here: a nack
  // hands the message to this receiver again, unacked at the broker (requeuesBehind false).
  deadLetter: true,
  countsDeliveries: true,
  movesExactlyOnce: false,
  // MQTT cannot hand a message back: the receiver it failed on retries it.
  retriesBehind: false,
  // A nack hands the message to the same receiver again, broadcast or not.
  broadcastRedelivery: true,
  // A space is the first topic level, a group a `$share/<group>/` subscription (MQTT 5 and 3.1.1 on Mosquitto).
  topicRouting: true,
  // MQTT 5 response topic and correlation data; one reply subscription per connection.
  requestReply: true,
  reasons: { sameConnectionReceivers: 'MQTT cannot tell their messages apart' },
});

/**
 * An MQTT 3.1.1 connection's: no message properties, so no metadata, no user properties to say why a message was
 * dead-lettered, and no response topic for requests.
 */
export const MQTT_311_TRAITS: Traits = narrowTraits(MQTT_TRAITS, {
  metadata: 'MQTT 3.1.1 has no message properties (connect with protocolVersion 5)',
  deadLetter: 'MQTT 3.1.1 has no user properties to say why (connect with protocolVersion 5)',
  requestReply: 'MQTT 3.1.1 has no response topic or correlation data (connect with protocolVersion 5)',
});
