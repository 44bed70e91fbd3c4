import { type MessageMetadata, NO_HEADERS, type SendOptions } from '@mq/core/spi';
import type * as amqp from 'amqplib';

/**
 * Header names RabbitMQ gives a meaning to (sender-selected distribution, dead-lettering, quorum delivery
 * counts, federation): refused in `SendOptions.headers`, so that an app cannot set them by accident.
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'cc',
  'bcc',
  'x-death',
  'x-delivery-count',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-received-from',
]);

/**
 * `headers` without those RabbitMQ gives a meaning to (a copy the failure policy publishes must not carry a
 * quorum queue's `x-delivery-count`, say).
 */
export function withoutReserved(
  headers: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (headers === undefined) return undefined;
  const names = Object.keys(headers);
  if (!names.some((name) => RESERVED_HEADERS.has(name.toLowerCase()))) return headers;
  const kept: Record<string, string> = {};
  for (const name of names) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) {
      Object.defineProperty(kept, name, { value: headers[name], enumerable: true });
    }
  }
  return kept;
}

/**
 * amqplib's publish options for one send: the queue's own (`deliveryMode`) plus the standard basic properties
 * and the headers table; `base` itself when there is no metadata (the hot path allocates nothing).
 */
export function publishOptions(
  base: amqp.Options.Publish,
  options: SendOptions | undefined,
): amqp.Options.Publish {
  if (options === undefined) return base;
  // Set field by field, not spread: this runs on every send with metadata (each request, each reply).
  const out: amqp.Options.Publish = { ...base };
  if (options.headers !== undefined) out.headers = { ...options.headers };
  if (options.messageId !== undefined) out.messageId = options.messageId;
  if (options.correlationId !== undefined) out.correlationId = options.correlationId;
  if (options.contentType !== undefined) out.contentType = options.contentType;
  if (options.replyTo !== undefined) out.replyTo = options.replyTo;
  if (options.expirationMillis !== undefined) out.expiration = String(options.expirationMillis);
  return out;
}

/**
 * The metadata of a delivery. Header values another client set that are not strings are shown as text (a
 * Buffer as UTF-8, anything else through `String` or JSON); RabbitMQ's timestamp (seconds) becomes
 * milliseconds; `x-delivery-count` (quorum queues) is the delivery count; `topic` is a topic receiver's.
 */
export function deliveryMetadata(raw: amqp.ConsumeMessage, topic?: string): MessageMetadata {
  const { properties, fields } = raw;
  const table = properties.headers;
  let headers: Readonly<Record<string, string>> = NO_HEADERS;
  let deliveryCount: number | undefined;
  if (table && Object.keys(table).length > 0) {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(table)) {
      if (name === 'x-delivery-count' && typeof value === 'number') deliveryCount = value;
      // Defined, not assigned: a name like `__proto__` from another client stays a plain header.
      Object.defineProperty(out, name, { value: headerText(value), enumerable: true });
    }
    headers = Object.freeze(out);
  }
  return {
    headers,
    messageId: stringOrUndefined(properties.messageId),
    correlationId: stringOrUndefined(properties.correlationId),
    contentType: stringOrUndefined(properties.contentType),
    replyTo: stringOrUndefined(properties.replyTo),
    timestamp: typeof properties.timestamp === 'number' ? properties.timestamp * 1000 : undefined,
    redelivered: fields.redelivered === true,
    deliveryCount,
    // Always present, so that every delivery's metadata has one shape (a topic receiver's and a named one's).
    topic,
  };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}
