import type { MqError } from '../../api/errors.js';
import { MAX_HEADER_BYTES, MAX_HEADERS, MAX_TIMER_MILLIS } from '../../api/limits.js';
import type { SendOptions } from '../../api/send-options.js';
import { describeValue } from '../describe.js';
import type { PackageErrors } from '../errors.js';
import { checkTopic } from '../routing/rules.js';
import { readFields } from './validate.js';

/** Every field of `SendOptions`: the names `sendMsg` takes (the compiler keeps them in step with the interface). */
const SEND_OPTION_KEYS = Object.keys({
  headers: true,
  messageId: true,
  correlationId: true,
  contentType: true,
  replyTo: true,
  expirationMillis: true,
  topic: true,
} as const satisfies Record<keyof SendOptions, true>);

const ID_FIELDS = [
  'messageId',
  'correlationId',
  'contentType',
  'replyTo',
] as const satisfies readonly (keyof SendOptions)[];

/**
 * True when `options` asks for any metadata (so that a backend without it must refuse the send); a `topic` is not
 * metadata. Backends use it to keep their shared publish options for a send that has none.
 */
export function hasMetadata(options: SendOptions | undefined): boolean {
  if (options === undefined) return false;
  return (
    (options.headers !== undefined && Object.keys(options.headers).length > 0) ||
    options.messageId !== undefined ||
    options.correlationId !== undefined ||
    options.contentType !== undefined ||
    options.replyTo !== undefined ||
    options.expirationMillis !== undefined
  );
}

/**
 * Validates `sendMsg`'s options; throws `INVALID_ARGUMENT` naming the field and the rule. `reserved` are header
 * names the backend keeps for itself (compared case-insensitively), besides the `mq-` prefix. Reads own fields
 * only and returns a frozen copy in which every field of `SendOptions` is its own property, `undefined` where not
 * given (so nothing inherited is read by the backend), or `undefined` when `input` is `undefined`.
 */
export function checkSendOptions(
  errors: PackageErrors,
  input: unknown,
  reserved: ReadonlySet<string> = NO_RESERVED,
): SendOptions | undefined {
  if (input === undefined) return undefined;
  const bad = errors.argument;
  const options = readFields(errors, input, {
    what: 'send options',
    keys: SEND_OPTION_KEYS,
    complaint: 'argument',
  });
  const out = blankSendOptions();
  if (options.headers !== undefined) out.headers = checkHeaders(errors, options.headers, reserved);
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
  if (options.topic !== undefined) out.topic = checkTopic(options.topic, 'topic', bad);
  return Object.freeze(out) as SendOptions;
}

/** `SendOptions` with every field its own property, `undefined` where not given. */
type OwnSendOptions = { -readonly [K in keyof SendOptions]-?: SendOptions[K] | undefined };

/**
 * Every field its own, undefined where not given: nothing inherited is ever read through it, and every copy has one
 * shape (an object without prototype would be a V8 dictionary, several times slower to read on every send).
 */
function blankSendOptions(): OwnSendOptions {
  return {
    headers: undefined,
    messageId: undefined,
    correlationId: undefined,
    contentType: undefined,
    replyTo: undefined,
    expirationMillis: undefined,
    topic: undefined,
  };
}

/**
 * Checked send options `base` with the fields `changes` gives (checked too, or made by mq) set: a frozen copy of
 * the one shape {@link checkSendOptions} returns, so that the send path reads every send's options alike.
 */
export function withSendOptions(base: SendOptions | undefined, changes: SendOptions): SendOptions {
  const out = blankSendOptions();
  out.headers = changes.headers ?? base?.headers;
  out.messageId = changes.messageId ?? base?.messageId;
  out.correlationId = changes.correlationId ?? base?.correlationId;
  out.contentType = changes.contentType ?? base?.contentType;
  out.replyTo = changes.replyTo ?? base?.replyTo;
  out.expirationMillis = changes.expirationMillis ?? base?.expirationMillis;
  out.topic = changes.topic ?? base?.topic;
  return Object.freeze(out) as SendOptions;
}

/** Checked send options that give nothing: what a request or a reply without metadata is sent with. */
export const NO_SEND_OPTIONS: SendOptions = withSendOptions(undefined, {});

function checkHeaders(
  errors: PackageErrors,
  value: unknown,
  reserved: ReadonlySet<string>,
): Readonly<Record<string, string>> {
  const bad = errors.argument;
  const fields = readFields(errors, value, { what: 'headers', complaint: 'argument', prefix: 'header ' });
  const entries = Object.entries(fields);
  if (entries.length > MAX_HEADERS) throw bad(`headers: at most ${MAX_HEADERS}, got ${entries.length}`);
  let bytes = 0;
  const headers: Record<string, string> = Object.create(null);
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

const NO_RESERVED: ReadonlySet<string> = new Set();

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
