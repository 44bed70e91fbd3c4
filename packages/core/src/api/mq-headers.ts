import { coreErrors } from '../spi/core-errors.js';
import { describeValue } from '../spi/describe.js';
import { errorText } from '../spi/errors.js';
import { MqError } from './errors.js';
import { type Message, NO_HEADERS } from './message.js';
import type { SendOptions } from './send-options.js';

/**
 * The headers mq itself puts on the copies its failure policy publishes (every name starting with `mq-` is
 * mq's own: apps may read them but not send them).
 */
export const MQ_HEADERS = Object.freeze({
  /** On a retried copy: how many times the message was handed to a handler before this copy was published. */
  deliveries: 'mq-deliveries',
  /** On a retried copy: milliseconds since the epoch before which it is not handed to a handler. */
  retryAt: 'mq-retry-at',
  /** On a dead letter: the queue that gave up on it. */
  deadLetterFrom: 'mq-dead-letter-from',
  /** On a dead letter: how many times it was handed to a handler there. */
  deadLetterDeliveries: 'mq-dead-letter-deliveries',
  /** On a dead letter: the message of the last failure. */
  deadLetterError: 'mq-dead-letter-error',
  /** On a dead letter: when it was given up on (ISO 8601). */
  deadLetterTime: 'mq-dead-letter-time',
  /** On a retried copy of a topic message, where the copy cannot keep its topic otherwise (AMQP): the topic. */
  topic: 'mq-topic',
} as const);

/** The `mq-deliveries` of a retried copy, if it carries a valid one. */
export function republishedDeliveries(
  headers: Readonly<Record<string, string>> | undefined,
): number | undefined {
  const text = headers?.[MQ_HEADERS.deliveries];
  if (text === undefined || !/^\d{1,9}$/.test(text)) return undefined;
  return Number(text);
}

/**
 * The metadata of `message` as `SendOptions`, without mq's own `mq-` headers: what to send a copy with, e.g. to
 * replay a dead letter onto its original queue. Headers the backend reserves (AMQP `x-death`, ...) are dropped
 * too when `reserved` names them. Throws `INVALID_ARGUMENT` naming the argument when `message` is not an object,
 * `reserved` not a set, or either cannot be read.
 */
export function replayOptions(message: Message, reserved: ReadonlySet<string> = NO_RESERVED): SendOptions {
  const bad = (text: string): MqError => coreErrors.argument(`replayOptions: ${text}`);
  if (typeof message !== 'object' || message === null) {
    throw bad(`message must be a received Message, got ${describeValue(message)}`);
  }
  try {
    if (typeof reserved?.has !== 'function') {
      throw bad(`reserved must be a Set of lower-case header names, got ${describeValue(reserved)}`);
    }
    // Own fields only: a polluted Object.prototype must add no header or id to the copy.
    const own = ownMetadata(message);
    const headers = headersWithout(own.headers ?? NO_HEADERS, (name) => {
      const lower = name.toLowerCase();
      return lower.startsWith('mq-') || reserved.has(lower) === true;
    });
    return { ...(Object.keys(headers).length > 0 ? { headers } : {}), ...idsOf(own as Message) };
  } catch (error) {
    if (MqError.isInstance(error)) throw error;
    // A getter that throws, a revoked proxy, a header name that is not a string.
    throw bad(`message could not be read: ${errorText(error)}`);
  }
}

/**
 * A copy of `headers` without the names `drop` picks, each kept as a plain own property (`__proto__` too).
 * @internal
 */
export function headersWithout(
  headers: Readonly<Record<string, string>>,
  drop: (name: string) => boolean,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!drop(name)) {
      Object.defineProperty(kept, name, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return kept;
}

/**
 * The message id, correlation id and content type of `message`, as `SendOptions` (absent ones left out).
 * @internal
 */
export function idsOf(message: Message): SendOptions {
  return {
    ...(message.messageId === undefined ? {} : { messageId: message.messageId }),
    ...(message.correlationId === undefined ? {} : { correlationId: message.correlationId }),
    ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
    ...(message.replyTo === undefined ? {} : { replyTo: message.replyTo }),
  };
}

const NO_RESERVED: ReadonlySet<string> = new Set();

/** The metadata fields `replayOptions` copies, read from `message`'s own properties only. */
function ownMetadata(
  message: Message,
): Pick<Message, 'headers' | 'messageId' | 'correlationId' | 'contentType' | 'replyTo'> {
  const own = <K extends 'headers' | 'messageId' | 'correlationId' | 'contentType' | 'replyTo'>(
    key: K,
  ): Message[K] | undefined => (Object.hasOwn(message, key) ? message[key] : undefined);
  return {
    headers: own('headers') ?? NO_HEADERS,
    messageId: own('messageId'),
    correlationId: own('correlationId'),
    contentType: own('contentType'),
    replyTo: own('replyTo'),
  };
}
