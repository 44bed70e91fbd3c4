import type { Capabilities } from '../api/backends.js';

/**
 * What a backend can do, said once: its `Backend` descriptor takes it as `capabilities` (the contract reads
 * those), and its queue class passes it to `BaseQueue`'s constructor (core reads it there: the refusals, the
 * metadata a send may carry, how the failure policy retries). A trait that depends on the connection (MQTT 3.1.1
 * carries no metadata) is narrowed per connection with {@link narrowTraits}, never widened: the descriptor says
 * the most any connection can do.
 */
export interface Traits extends Capabilities {
  /**
   * The driver's `republish(undefined, ...)` puts a copy of a received message behind the messages already
   * waiting for this receiver (AMQP: the tail of its queue): the failure policy then retries by republishing,
   * so that the others go first. False: it holds the failed message for `retryDelayMillis`, then nacks it (so
   * `nack()` must put it behind the others).
   * @default false
   */
  readonly requeuesBehind?: boolean;
  /**
   * Header names (lower case) the broker gives a meaning to, refused in `SendOptions.headers` (RabbitMQ's
   * `x-death`, say).
   * @default none
   */
  readonly reservedHeaders?: readonly string[];
  /**
   * Why a capability is false, said after its `UNSUPPORTED` (e.g. `metadata: 'MQTT 3.1.1 has no message
   * properties (connect with protocolVersion 5)'`).
   * @default none
   */
  readonly reasons?: Readonly<Partial<Record<keyof Capabilities, string>>>;
}

/** The capabilities a connection may lack although its backend has them, e.g. by protocol version. */
export type NarrowableCapability =
  | 'metadata'
  | 'deadLetter'
  | 'countsDeliveries'
  | 'broadcast'
  | 'prefetch'
  | 'requestReply';

/**
 * `traits` for one connection that cannot do what `off` names: each becomes `false`, and its value says why
 * (in `reasons`). Narrowing only: a capability can be taken away here, never given.
 */
export function narrowTraits(
  traits: Traits,
  off: Readonly<Partial<Record<NarrowableCapability, string>>>,
): Traits {
  const narrowed: Record<string, unknown> = { ...traits, reasons: { ...traits.reasons } };
  const reasons = narrowed.reasons as Record<string, string>;
  for (const [capability, why] of Object.entries(off)) {
    narrowed[capability] = false;
    if (why !== undefined) reasons[capability] = why;
  }
  return Object.freeze(narrowed) as unknown as Traits;
}
