import type { Message, SendOptions } from '@mq/core';
import { nestError } from './errors.js';
import { MqRecord } from './record.js';

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim());
}

/**
 * The bytes and send options of one `emit(pattern, data)`: `data` as JSON; an {@link MqRecord} adds metadata,
 * and with a content type that is not JSON sends its `Uint8Array` or string data as they are.
 */
export function encodePacket(data: unknown, pattern: string): { payload: Buffer; options: SendOptions } {
  const record = MqRecord.isInstance(data) ? data : undefined;
  const value = record ? record.data : data;
  const options: SendOptions = { ...record?.options };
  if (!isJson(options.contentType)) {
    if (value instanceof Uint8Array) return { payload: Buffer.from(value), options };
    if (typeof value === 'string') return { payload: Buffer.from(value, 'utf8'), options };
    throw nestError(
      'INVALID_ARGUMENT',
      `emit('${pattern}'): data must be a Uint8Array or a string with content type ${options.contentType}, got ${typeof value}`,
    );
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw nestError(
      'INVALID_ARGUMENT',
      `emit('${pattern}'): data cannot be written as JSON: ${String(error)}`,
      error,
    );
  }
  if (text === undefined)
    throw nestError(
      'INVALID_ARGUMENT',
      `emit('${pattern}'): data cannot be written as JSON (got ${typeof value})`,
    );
  return { payload: Buffer.from(text, 'utf8'), options };
}

/**
 * What a handler gets as its `@Payload()`: the JSON value the message holds when its content type is JSON or
 * absent and the payload parses; otherwise the payload `Buffer`. Decoding never fails a message: bytes that are not
 * JSON reach the handler (and a dead-letter handler) as they are, for a pipe or the handler to refuse.
 */
export function decodeMessage(message: Message): unknown {
  if (!isJson(message.contentType)) return message.payload;
  try {
    return JSON.parse(message.payload.toString('utf8'));
  } catch {
    return message.payload;
  }
}
