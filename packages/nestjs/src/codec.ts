import type { Message, Reply, SendOptions } from '@mq/core';
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

/**
 * The header an `MqServer` reply carries when its `@MessagePattern` handler failed: the body is then the error
 * Nest's exception filter made of it (`{ status: 'error', message }`, or an `RpcException`'s error), as JSON.
 */
export const REPLY_ERROR_HEADER = 'x-nest-status';

/**
 * The bytes and options of a `@MessagePattern` handler's result: JSON (nothing for `undefined`), the bytes of a
 * `Uint8Array` as they are (`application/octet-stream`), an {@link MqRecord} with its metadata.
 */
export function encodeResult(result: unknown, pattern: string): { payload: Buffer; options: SendOptions } {
  if (result === undefined) return { payload: Buffer.alloc(0), options: { contentType: 'application/json' } };
  if (result instanceof Uint8Array && !MqRecord.isInstance(result)) {
    return { payload: Buffer.from(result), options: { contentType: 'application/octet-stream' } };
  }
  const encoded = encodePacket(result, pattern);
  const { replyTo: _replyTo, correlationId: _correlationId, ...options } = encoded.options;
  return { payload: encoded.payload, options: { contentType: 'application/json', ...options } };
}

/** The reply that says a handler failed with `failure` (see {@link REPLY_ERROR_HEADER}). */
export function encodeFailure(failure: unknown): { payload: Buffer; options: SendOptions } {
  let text: string | undefined;
  try {
    text = JSON.stringify(failure instanceof Error ? { status: 'error', message: failure.message } : failure);
  } catch {
    text = undefined;
  }
  text ??= JSON.stringify({ status: 'error', message: String(failure) });
  return {
    payload: Buffer.from(text, 'utf8'),
    options: { contentType: 'application/json', headers: { [REPLY_ERROR_HEADER]: 'error' } },
  };
}

/**
 * What `send()` yields from a reply: as {@link decodeMessage} decodes a message (an empty JSON body is
 * `undefined`), and whether the server's handler failed.
 */
export function decodeReply(reply: Reply): { failed: boolean; value: unknown } {
  const failed = reply.headers[REPLY_ERROR_HEADER] === 'error';
  if (reply.payload.length === 0 && isJson(reply.contentType)) return { failed, value: undefined };
  if (!isJson(reply.contentType)) return { failed, value: reply.payload };
  try {
    return { failed, value: JSON.parse(reply.payload.toString('utf8')) };
  } catch {
    return { failed, value: reply.payload };
  }
}
