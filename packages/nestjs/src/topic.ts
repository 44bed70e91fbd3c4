import { nestError } from './errors.js';

/**
 * An object pattern for topic routing: `@EventPattern({ space: 'shop', topic: 'orders.*.created' }, { group })`
 * receives the messages of the topic space `space` whose topic matches `topic` (`*` one word, a last `#` zero or
 * more), and `client.emit({ space: 'shop', topic: 'orders.eu.created' }, data)` sends one with that topic.
 */
export interface MqTopicPattern {
  /** The topic space: an mq queue name used with `routing: 'topic'` (AMQP: a topic exchange; MQTT: the first level). */
  readonly space: string;
  /** A handler's topic pattern, or the topic of an emitted message: words of `[a-z0-9_-]` joined by dots. */
  readonly topic: string;
}

/** The topic pattern a Nest pattern route (`{"space":"shop","topic":"orders.*"}`) stands for, or undefined. */
export function parseTopicPattern(route: string): MqTopicPattern | undefined {
  if (!route.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(route);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { space, topic, ...rest } = value as Record<string, unknown>;
  if (space === undefined && topic === undefined) return undefined;
  if (typeof space !== 'string' || typeof topic !== 'string' || Object.keys(rest).length > 0) {
    throw nestError(
      'INVALID_ARGUMENT',
      `pattern ${route}: a topic pattern is { space: string, topic: string } and nothing else`,
    );
  }
  return { space, topic };
}
