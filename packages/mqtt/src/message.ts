import type { SettleOnceMessage } from '@mq/core/spi';

/**
 * A message delivered by an {@link MqttQueue}: `ack()` sends the PUBACK of a QoS 1 message (nothing for QoS 0),
 * `nack()` hands it to the same receiver's handler again; a second `ack()` or `nack()` is ignored.
 */
export type MqttMessage = SettleOnceMessage;
