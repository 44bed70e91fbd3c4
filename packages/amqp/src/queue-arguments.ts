import { describeValue, type OptionReader, readFields } from '@mq/core/spi';
import { errors } from './errors.js';
import type { AmqpQueueOptions } from './options.js';

// Queues declared by others (issue #27): `declare: false`, the typed `x-` arguments and `queueArguments`.

/** What `overflow` takes: RabbitMQ's `x-overflow` values. */
export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

const OVERFLOWS: readonly Overflow[] = ['drop-head', 'reject-publish', 'reject-publish-dlx'];

/** The longest AMQP short string (queue, exchange and argument names, routing keys), in UTF-8 bytes. */
const SHORTSTR_BYTES = 255;

/** The most entries `queueArguments` may hold. */
const MAX_QUEUE_ARGUMENTS = 64;

/** Counts of messages and bytes, and milliseconds: RabbitMQ takes any non-negative integer. */
const NON_NEGATIVE = { min: 0, max: Number.MAX_SAFE_INTEGER } as const;

/**
 * The rule for the name of a queue or exchange mq attaches to without declaring it (`declare: false`): what
 * RabbitMQ accepts (upper case, `:`, `/`, `@`, any Unicode letter), 1 to 255 bytes of UTF-8, minus whitespace and
 * control characters, which in a name are nearly always a mistake (a trailing newline from a file, say).
 */
const ATTACHED_NAME = /^[^\s\p{Cc}]+$/u;

/** The typed options, each with the `x-` argument it sets: errors about an argument name the option to change. */
const ARGUMENT_OF_OPTION = {
  queueType: 'x-queue-type',
  deliveryLimit: 'x-delivery-limit',
  maxLength: 'x-max-length',
  maxLengthBytes: 'x-max-length-bytes',
  overflow: 'x-overflow',
  messageTtlMillis: 'x-message-ttl',
  deadLetterExchange: 'x-dead-letter-exchange',
  deadLetterRoutingKey: 'x-dead-letter-routing-key',
} as const satisfies Partial<Record<keyof AmqpQueueOptions, string>>;

/** The queue options that set an `x-` argument, by argument. */
const OPTION_OF_ARGUMENT: ReadonlyMap<string, string> = new Map(
  Object.entries(ARGUMENT_OF_OPTION).map(([option, argument]) => [argument, option]),
);

/** The option to change for `argument`: its typed option, else its entry in `queueArguments`. */
export function optionOfArgument(argument: string): string {
  return OPTION_OF_ARGUMENT.get(argument) ?? `queueArguments['${argument}']`;
}

/** Reads `name` with the broker's rule when `declare` is `false`, else with mq's (`QUEUE_NAME_PATTERN`). */
export function readName(read: OptionReader<AmqpQueueOptions>): string {
  if (read.raw('declare') !== false) return read.queueName('name');
  const value = read.raw('name');
  if (typeof value !== 'string') throw read.fail(`name must be a string, got ${describeValue(value)}`);
  if (!ATTACHED_NAME.test(value)) {
    throw read.fail(
      `name of a queue attached with declare: false must be non-empty, without whitespace or control characters, got ${describeValue(value)}`,
    );
  }
  const bytes = Buffer.byteLength(value);
  if (bytes > SHORTSTR_BYTES) {
    throw read.fail(`name must be at most ${SHORTSTR_BYTES} bytes (UTF-8), got ${bytes}`);
  }
  return value;
}

/** What a queue declares beyond its type and delivery limit, or that it declares nothing. */
export interface Declaration {
  /** See {@link AmqpQueueOptions.declare}. */
  readonly declare: boolean;
  /** The `x-` arguments of the typed options and `queueArguments` (without `x-queue-type`, `x-delivery-limit`). */
  readonly arguments: Readonly<Record<string, unknown>>;
}

/**
 * Reads `declare`, the typed arguments and `queueArguments`. Refused: arguments on a broadcast queue (its receivers'
 * queues are exclusive and temporary), and any argument or `queueType` with `declare: false` (mq cannot check
 * them: AMQP cannot read a queue's arguments, and a passive declare ignores them).
 */
export function readDeclaration(read: OptionReader<AmqpQueueOptions>, broadcast: boolean): Declaration {
  const declare = read.boolean('declare', true);
  const args: Record<string, unknown> = {};
  const set = (option: keyof typeof ARGUMENT_OF_OPTION, value: unknown): void => {
    if (value !== undefined) args[ARGUMENT_OF_OPTION[option]] = value;
  };
  set('maxLength', read.integer('maxLength', NON_NEGATIVE));
  set('maxLengthBytes', read.integer('maxLengthBytes', NON_NEGATIVE));
  set('overflow', readOverflow(read));
  set('messageTtlMillis', read.integer('messageTtlMillis', NON_NEGATIVE));
  const exchange = readShortString(read, 'deadLetterExchange', true);
  const routingKey = readShortString(read, 'deadLetterRoutingKey', true);
  if (routingKey !== undefined && exchange === undefined) {
    // RabbitMQ refuses it too (routing_key_but_no_dlx_defined), but only once the queue opens.
    throw read.fail("deadLetterRoutingKey needs deadLetterExchange (use '' for the default exchange)");
  }
  set('deadLetterExchange', exchange);
  set('deadLetterRoutingKey', routingKey);
  Object.assign(args, readQueueArguments(read));
  const given = Object.keys(args).map(optionOfArgument);
  if (given.length > 0 && broadcast) {
    throw read.fail(
      `${given[0]} is for unicast queues: a broadcast receiver's queue is exclusive and temporary, and mq declares it`,
    );
  }
  if (!declare) {
    const unchecked = (['queueType', 'deliveryLimit'] as const).filter((key) => read.has(key));
    const first = [...unchecked, ...given][0];
    if (first !== undefined) {
      throw read.fail(
        `${first} cannot be checked with declare: false (mq attaches to the queue as it is, and AMQP cannot read its arguments); drop ${first}, or let mq declare the queue`,
      );
    }
  }
  return Object.freeze({ declare, arguments: Object.freeze(args) });
}

function readOverflow(read: OptionReader<AmqpQueueOptions>): Overflow | undefined {
  const value = read.raw('overflow');
  if (value === undefined) return undefined;
  if (!OVERFLOWS.includes(value as Overflow)) {
    throw read.fail(
      `overflow must be one of ${OVERFLOWS.map((o) => `'${o}'`).join(', ')}, got ${describeValue(value)}`,
    );
  }
  return value as Overflow;
}

/** An exchange name or routing key: an AMQP short string (at most 255 bytes), no control characters. */
function readShortString(
  read: OptionReader<AmqpQueueOptions>,
  key: 'deadLetterExchange' | 'deadLetterRoutingKey',
  emptyAllowed: boolean,
): string | undefined {
  const value = read.string(key);
  if (value === undefined) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f\u007f]/.test(value) || (!emptyAllowed && value === '')) {
    throw read.fail(`${key} must be a string without control characters, got ${describeValue(value)}`);
  }
  const bytes = Buffer.byteLength(value);
  if (bytes > SHORTSTR_BYTES)
    throw read.fail(`${key} must be at most ${SHORTSTR_BYTES} bytes (UTF-8), got ${bytes}`);
  return value;
}

/**
 * `queueArguments`: a plain object of `x-` names (those without a typed option) to strings, booleans or finite
 * numbers, at most 64; a snapshot of own fields, as every option is read.
 */
function readQueueArguments(read: OptionReader<AmqpQueueOptions>): Record<string, unknown> {
  if (!read.has('queueArguments')) return {};
  // Own fields through a snapshot, as every option is read: refuses what is not a plain object, and getters that throw.
  const raw = readFields(errors, read.raw('queueArguments'), {
    what: 'queueArguments',
    prefix: 'queueArguments.',
  });
  const names = Object.keys(raw);
  if (names.length > MAX_QUEUE_ARGUMENTS) {
    throw read.fail(`queueArguments may hold at most ${MAX_QUEUE_ARGUMENTS} arguments, got ${names.length}`);
  }
  const args: Record<string, unknown> = {};
  for (const name of names) {
    const typed = OPTION_OF_ARGUMENT.get(name);
    if (typed !== undefined) throw read.fail(`queueArguments['${name}']: use the option ${typed} instead`);
    if (!/^x-[a-z0-9-]+$/.test(name) || name.length > SHORTSTR_BYTES) {
      throw read.fail(
        `queueArguments names must be RabbitMQ x- arguments (x- then a-z, 0-9, '-'), got ${describeValue(name)}`,
      );
    }
    const value = raw[name];
    const ok =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok) {
      throw read.fail(
        `queueArguments['${name}'] must be a string, a boolean or a finite number, got ${describeValue(value)}`,
      );
    }
    args[name] = value;
  }
  return args;
}
