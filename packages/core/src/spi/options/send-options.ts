import { MqError } from '../../api/errors.js';
import { MAX_HEADER_BYTES, MAX_HEADERS, MAX_TIMER_MILLIS } from '../../api/limits.js';
import type { SendOptions } from '../../api/send-options.js';
import { describeValue } from './options.js';

const SEND_OPTION_KEYS = new Set([
  'headers',
  'messageId',
  'correlationId',
  'contentType',
  'expirationMillis',
]);
const ID_FIELDS = ['messageId', 'correlationId', 'contentType'] as const;

/** True when `options` asks for any metadata (so that a backend without it must refuse the send). */
export function hasMetadata(options: SendOptions | undefined): boolean {
  if (options === undefined) return false;
  return (
    (options.headers !== undefined && Object.keys(options.headers).length > 0) ||
    options.messageId !== undefined ||
    options.correlationId !== undefined ||
    options.contentType !== undefined ||
    options.expirationMillis !== undefined
  );
}

/**
 * Validates `sendMsg`'s options; throws `INVALID_ARGUMENT` naming the field and the rule. `reserved` are header
 * names the backend keeps for itself (compared case-insensitively), besides the `mq-` prefix. Returns a frozen
 * copy, or `undefined` when `input` is `undefined`.
 */
export function checkSendOptions(
  pkg: string,
  input: unknown,
  reserved: ReadonlySet<string> = new Set(),
): SendOptions | undefined {
  if (input === undefined) return undefined;
  const bad = (message: string): MqError => new MqError('INVALID_ARGUMENT', `[${pkg}] ${message}`);
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw bad(`send options must be an object, got ${describeValue(input)}`);
  const options = input as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!SEND_OPTION_KEYS.has(key))
      throw bad(`send options: unknown field '${key}'; known fields: ${[...SEND_OPTION_KEYS].join(', ')}`);
  }
  const out: SendOptions = {};
  if (options.headers !== undefined) out.headers = checkHeaders(options.headers, reserved, bad);
  for (const field of ID_FIELDS) {
    const value = options[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value) > 255)
      throw bad(`${field} must be a string of 1 to 255 bytes (UTF-8), got ${describeValue(value)}`);
    checkText(value, field, bad);
    out[field] = value;
  }
  const expiration = options.expirationMillis;
  if (expiration !== undefined) {
    if (
      typeof expiration !== 'number' ||
      !Number.isInteger(expiration) ||
      expiration < 0 ||
      expiration > MAX_TIMER_MILLIS
    )
      throw bad(
        `expirationMillis must be an integer from 0 to ${MAX_TIMER_MILLIS}, got ${describeValue(expiration)}`,
      );
    out.expirationMillis = expiration;
  }
  return Object.freeze(out);
}

function checkHeaders(
  value: unknown,
  reserved: ReadonlySet<string>,
  bad: (message: string) => MqError,
): Readonly<Record<string, string>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(`headers must be an object of string values, got ${describeValue(value)}`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_HEADERS) throw bad(`headers: at most ${MAX_HEADERS}, got ${entries.length}`);
  let bytes = 0;
  const headers: Record<string, string> = {};
  for (const [name, item] of entries) {
    if (name.length === 0 || name.length > 128 || Buffer.byteLength(name) > 255)
      throw bad(`header name must be 1 to 128 characters and at most 255 bytes, got ${describeValue(name)}`);
    if (name === '__proto__') throw bad('header name "__proto__" is not allowed');
    checkText(name, 'header name', bad);
    const lower = name.toLowerCase();
    if (lower.startsWith('mq-') || reserved.has(lower))
      throw bad(
        `header ${describeValue(name)} is reserved${lower.startsWith('mq-') ? " (mq- names are mq's own)" : ' by this backend'}`,
      );
    if (typeof item !== 'string')
      throw bad(`header ${describeValue(name)} must be a string, got ${describeValue(item)}`);
    checkText(item, `header ${describeValue(name)}`, bad);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(item);
    headers[name] = item;
  }
  if (bytes > MAX_HEADER_BYTES)
    throw bad(`headers: at most ${MAX_HEADER_BYTES} bytes of names and values, got ${bytes}`);
  return Object.freeze(headers);
}

/**
 * Control characters (C0, DEL, C1), Unicode non-characters and unpaired surrogates, which MQTT 5 brokers refuse
 * in any string (Mosquitto drops the client) and AMQP clients may not expect: refused everywhere, so that metadata
 * means the same on every backend.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const NOT_TEXT = /[\u0000-\u001f\u007f-\u009f\ufdd0-\ufdef\ufffe\uffff]/;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one: not valid UTF-16. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkText(value: string, what: string, bad: (message: string) => MqError): void {
  if (NOT_TEXT.test(value) || LONE_SURROGATE.test(value))
    throw bad(`${what} must be text without control characters, non-characters or unpaired surrogates`);
}
