import {
  type ExtraKeys,
  type QueueOptions,
  type ResolvedQueueOptions,
  resolveQueueOptions,
} from '@mq/core/spi';
import { errors } from './errors.js';
import { topicFilters } from './topics.js';

/** The shared-subscription prefix unicast receivers use when none is given. */
export const DEFAULT_SHARED_PREFIX = '$share/mq/';

const SHARED_PREFIX_PATTERN = /^(\$share\/[^/+#\s]+\/|\$queue\/)?$/;

/** Options of an {@link MqttQueue}; `T` is the body type. */
export interface MqttQueueOptions<T = Buffer> extends QueueOptions<T> {
  /**
   * Unicast receivers subscribe to `<sharedPrefix><name>`: `$share/<group>/` (MQTT 5 and most 3.1.1 brokers),
   * `$queue/` (EMQX), or `''` for a plain subscription where every receiver gets every message (only for
   * brokers without shared subscriptions, such as aedes). Use `'$share/general-mq/'` to share receivers with
   * general-mq apps.
   * @default '$share/mq/'
   */
  sharedPrefix?: string;
  /**
   * Receivers only: the most messages this receiver holds in the process unsettled (handlers running, a
   * `messages()` loop's buffer). At that many the connection stops reading its socket until one is acked or
   * nacked, whatever the broker sends (MQTT itself bounds unacked messages per connection: `receiveMaximum`).
   * Reads stop for the whole connection, so its other receivers and its sends' PUBACKs wait too.
   * @default 100
   */
  prefetch?: number;
}

/** Queue options after validation: a sender's or a receiver's, with `sharedPrefix`. */
export type ResolvedMqttQueueOptions = ResolvedQueueOptions & {
  /** See {@link MqttQueueOptions.sharedPrefix}. */
  readonly sharedPrefix: string;
};

/** This backend's own queue options (the compiler keeps the list in step with the interface). */
const MQTT_QUEUE_KEYS = { sharedPrefix: true } as const satisfies ExtraKeys<MqttQueueOptions, QueueOptions>;

/** Validates queue options (own fields only) and fills in defaults; throws `INVALID_OPTIONS` naming the field. */
export function resolveMqttQueueOptions(input: unknown): ResolvedMqttQueueOptions {
  const { options: shared, read } = resolveQueueOptions<MqttQueueOptions>(errors, input, MQTT_QUEUE_KEYS);
  if (shared.routing === 'topic' && read.has('sharedPrefix')) {
    throw read.fail(
      'sharedPrefix is for receivers routed by name: a topic receiver of a group subscribes as $share/<group>/<space>/..., a broadcast one plainly',
    );
  }
  const sharedPrefix = read.string('sharedPrefix', DEFAULT_SHARED_PREFIX, {
    regex: SHARED_PREFIX_PATTERN,
    rule: "be '$share/<group>/', '$queue/' or ''",
  });
  return Object.freeze({ ...shared, sharedPrefix });
}

/** The topic filter a receiver subscribes to: the name itself for broadcast, the shared form for unicast. */
export function subscriptionFilter(options: ResolvedMqttQueueOptions): string {
  return options.broadcast ? options.name : `${options.sharedPrefix}${options.name}`;
}

/**
 * Every filter a receiver subscribes to: {@link subscriptionFilter}'s one, or a topic receiver's (one per pattern
 * under its space, shared as `$share/<group>/` for a group; see `topicFilters`).
 */
export function subscriptionFilters(options: ResolvedMqttQueueOptions): readonly string[] {
  if (options.routing !== 'topic') return [subscriptionFilter(options)];
  return Object.freeze(
    topicFilters(options.name, options.topics ?? [], options.broadcast ? undefined : options.group),
  );
}
