import type { SettleOnceMessage } from '@mq/core/spi';

/**
 * A message delivered by an {@link AmqpQueue}: `ack()` is `basic.ack`, `nack()` is `basic.nack` with requeue, both
 * on the channel it came on (rejecting with `ACK_FAILED` if that channel has died); a second `ack()` or `nack()`
 * is ignored.
 */
export type AmqpMessage = SettleOnceMessage;
