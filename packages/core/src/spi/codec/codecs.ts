import type { Codec } from '../../api/codec.js';
import { MAX_PREFETCH } from '../../api/limits.js';
import type { Message } from '../../api/message.js';
import type { QueueOptions } from '../../api/queue.js';
import type { StandardSchemaV1 } from '../../api/standard-schema.js';
import { describeValue } from '../describe.js';
import type { OptionReader } from '../options/validate.js';

/** A codec as core uses it, the built-in ones included: `bytes` is true for the one that leaves bodies as bytes. */
export interface ResolvedCodec {
  /** The name the app gave (`'bytes'`, `'json'`, `'text'`) or `'custom'`. */
  readonly name: 'bytes' | 'json' | 'text' | 'custom';
  /** The content type senders set; `undefined` for `'bytes'`, which sets none. */
  readonly contentType: string | undefined;
  /** Body to bytes; may throw. */
  encode(body: unknown): Uint8Array;
  /** Bytes to body; may throw. */
  decode(payload: Buffer): unknown;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** `'bytes'`: today's behaviour, the payload is the body. */
export const BYTES_CODEC: ResolvedCodec = Object.freeze({
  name: 'bytes',
  contentType: undefined,
  encode: (body: unknown) => body as Uint8Array,
  decode: (payload: Buffer) => payload,
});

/** `'json'`: `JSON.stringify` as UTF-8; decoding refuses bytes that are not UTF-8 (rather than mangle them). */
export const JSON_CODEC: ResolvedCodec = Object.freeze({
  name: 'json',
  contentType: 'application/json',
  encode: (body: unknown) => {
    const text = JSON.stringify(body);
    // JSON.stringify(undefined) and of a function is undefined: nothing a receiver could parse.
    if (text === undefined) throw new TypeError(`${describeValue(body)} has no JSON form`);
    return Buffer.from(text, 'utf8');
  },
  decode: (payload: Buffer) => JSON.parse(UTF8.decode(payload)) as unknown,
});

/** `'text'`: a string as UTF-8; decoding refuses bytes that are not UTF-8. */
export const TEXT_CODEC: ResolvedCodec = Object.freeze({
  name: 'text',
  contentType: 'text/plain; charset=utf-8',
  encode: (body: unknown) => {
    if (typeof body !== 'string')
      throw new TypeError(`the text codec takes a string, got ${describeValue(body)}`);
    return Buffer.from(body, 'utf8');
  },
  decode: (payload: Buffer) => UTF8.decode(payload),
});

/** The media type of a content type, lower case, without parameters: `application/json; charset=x` -> `application/json`. */
export function mediaType(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * The codec a received message is decoded with: the one its content type names (the queue's own codec, a
 * built-in one, `+json` types as JSON), else the queue's codec. A `'bytes'` queue always keeps bytes.
 */
export function codecFor(queueCodec: ResolvedCodec, contentType: string | undefined): ResolvedCodec {
  if (queueCodec.name === 'bytes' || contentType === undefined) return queueCodec;
  const type = mediaType(contentType);
  if (queueCodec.contentType !== undefined && mediaType(queueCodec.contentType) === type) return queueCodec;
  if (type === 'application/json' || type.endsWith('+json')) return JSON_CODEC;
  if (type === 'text/plain') return TEXT_CODEC;
  if (type === 'application/octet-stream') return BYTES_CODEC;
  return queueCodec;
}

/** `codec`: a built-in name or a codec object (`contentType`, `encode`, `decode`). */
export function readCodec(read: OptionReader<QueueOptions>): ResolvedCodec {
  const value = read.raw('codec');
  if (value === undefined || value === 'bytes') return BYTES_CODEC;
  if (value === 'json') return JSON_CODEC;
  if (value === 'text') return TEXT_CODEC;
  const rule = `codec must be 'bytes', 'json', 'text' or an object with contentType (a MIME type), encode and decode (functions), got ${describeValue(value)}`;
  if (typeof value !== 'object' || value === null) throw read.fail(rule);
  let custom: { contentType: unknown; encode: unknown; decode: unknown };
  try {
    const codec = value as Codec<unknown>;
    custom = { contentType: codec.contentType, encode: codec.encode, decode: codec.decode };
  } catch {
    throw read.fail(rule);
  }
  const { contentType, encode, decode } = custom;
  if (
    typeof contentType !== 'string' ||
    !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;.*)?$/.test(contentType) ||
    contentType.length > 255 ||
    typeof encode !== 'function' ||
    typeof decode !== 'function'
  ) {
    throw read.fail(rule);
  }
  const codec = value as Codec<unknown>;
  return Object.freeze({
    name: 'custom',
    contentType,
    encode: (body: unknown) => encode.call(codec, body) as Uint8Array,
    decode: (payload: Buffer) => decode.call(codec, payload) as unknown,
  });
}

/** `schema`: a Standard Schema v1 validator (an object whose `~standard` has version 1 and `validate`), if given. */
export function readSchema(read: OptionReader<QueueOptions>): StandardSchemaV1 | undefined {
  const value = read.raw('schema');
  if (value === undefined) return undefined;
  let standard: unknown;
  try {
    standard =
      (typeof value === 'object' || typeof value === 'function') && value !== null
        ? (value as StandardSchemaV1)['~standard']
        : undefined;
  } catch {
    standard = undefined;
  }
  const props = standard as Partial<StandardSchemaV1.Props> | undefined;
  if (
    typeof props !== 'object' ||
    props === null ||
    props.version !== 1 ||
    typeof props.validate !== 'function'
  ) {
    throw read.fail(
      `schema must be a Standard Schema v1 validator (zod, valibot, arktype, ...: an object with '~standard'), got ${describeValue(value)}`,
    );
  }
  return value as StandardSchemaV1;
}

/** `concurrency`: an integer from 1 to 65535, if given. */
export function readConcurrency(read: OptionReader<QueueOptions>): number | undefined {
  return read.integer('concurrency', { min: 1, max: MAX_PREFETCH });
}

/** `orderingKey`: a function, if given. */
export function readOrderingKey(
  read: OptionReader<QueueOptions>,
): ((message: Message<unknown>) => string | undefined) | undefined {
  const value = read.raw('orderingKey');
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw read.fail(`orderingKey must be a function of the message, got ${describeValue(value)}`);
  }
  return value as (message: Message<unknown>) => string | undefined;
}

/** The first issues of a failed validation, as one line: `total: Expected number; items.0: Required`. */
export function issuesText(issues: ReadonlyArray<StandardSchemaV1.Issue>, max = 3): string {
  const shown = issues.slice(0, max).map((issue) => {
    const path = (issue.path ?? [])
      .map((step) => String(typeof step === 'object' && step !== null ? step.key : step))
      .join('.');
    return path === '' ? String(issue.message) : `${path}: ${String(issue.message)}`;
  });
  const more = issues.length > max ? ` (and ${issues.length - max} more)` : '';
  return `${shown.join('; ')}${more}`;
}
