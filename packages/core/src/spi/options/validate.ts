import type { MqError } from '../../api/errors.js';
import { MAX_QUEUE_NAME_LENGTH, MAX_TIMER_MILLIS, QUEUE_NAME_PATTERN } from '../../api/limits.js';
import { describeValue } from '../describe.js';
import { errorText, type PackageErrors } from '../errors.js';

// The readers every option goes through: a leaf module (it knows no option by name), so that each options
// module can use it without a cycle.

/** An inclusive range of integers. */
export interface IntegerRange {
  /** The smallest allowed value. */
  readonly min: number;
  /** The largest allowed value. */
  readonly max: number;
}

/** How {@link readFields} reads an object. */
export interface FieldsSpec {
  /** What the object is, for messages: `queue options`, `tls`, `send options`. */
  readonly what: string;
  /** The names allowed; any other is refused (a typo is caught, not ignored). Omitted: any name. */
  readonly keys?: readonly string[];
  /**
   * `argument` for the arguments of a call (`INVALID_ARGUMENT`: send options, `messages()` options).
   * @default 'options' (`INVALID_OPTIONS`)
   */
  readonly complaint?: 'options' | 'argument';
  /**
   * Said before each field name in messages, e.g. `tls.` for `tls.ca must be ...`.
   * @default ''
   */
  readonly prefix?: string;
}

/** Milliseconds from 1 to the longest timer Node takes. */
export const MILLIS: IntegerRange = Object.freeze({ min: 1, max: MAX_TIMER_MILLIS });

/**
 * The own enumerable fields of a plain object, read once into a record without prototype, so that nothing
 * inherited (a polluted `Object.prototype`, say) is ever read as an option. Refuses, naming `spec.what`, anything
 * that is not a plain object (`null`, an array, a `Map`, a `Date`, an `AbortSignal`, a class instance), names not
 * in `spec.keys`, and an object that throws when read (a getter that throws, a revoked proxy).
 */
export function readFields(errors: PackageErrors, value: unknown, spec: FieldsSpec): Record<string, unknown> {
  const fail = complaint(errors, spec);
  if (typeof value !== 'object' || value === null || isArray(value, fail, spec.what)) {
    throw fail(`${spec.what} must be an object, got ${describeValue(value)}`);
  }
  if (!isPlainObject(value, fail, spec.what)) {
    throw fail(`${spec.what} must be a plain object, got ${describeValue(value)}`);
  }
  const fields: Record<string, unknown> = Object.create(null);
  let names: string[];
  try {
    names = Object.keys(value);
  } catch (error) {
    throw fail(`${spec.what} could not be read: ${errorText(error)}`);
  }
  for (const name of names) {
    if (spec.keys && !spec.keys.includes(name)) {
      throw fail(`${spec.what} has an unknown field '${name}'; known fields: ${spec.keys.join(', ')}`);
    }
    try {
      fields[name] = (value as Record<string, unknown>)[name];
    } catch (error) {
      throw fail(`${spec.prefix ?? ''}${name} could not be read: ${errorText(error)}`);
    }
  }
  return fields;
}

/**
 * Reads the fields of one options object, each through {@link readFields}' own-property snapshot, and checks each
 * value against its rule; every failure is the package's typed error naming the field. `T` is the options
 * interface: a reader of `T` only reads names `T` declares.
 */
export class OptionReader<T extends object = Record<string, unknown>> {
  readonly #fields: Record<string, unknown>;
  readonly #fail: (message: string) => MqError;
  readonly #prefix: string;

  /** Reads `value` (see {@link readFields}). */
  constructor(errors: PackageErrors, value: unknown, spec: FieldsSpec) {
    this.#fields = readFields(errors, value, spec);
    this.#fail = complaint(errors, spec);
    this.#prefix = spec.prefix ?? '';
  }

  /** True when the field was given (an own field whose value is not `undefined`). */
  has(key: Field<T>): boolean {
    return this.#fields[key] !== undefined;
  }

  /** The field's value as given, unchecked (`undefined` when absent). */
  raw(key: Field<T>): unknown {
    return this.#fields[key];
  }

  /** The typed error for this object, e.g. for a rule between two fields. */
  fail(message: string): MqError {
    return this.#fail(message);
  }

  /** A boolean field; without `fallback` it is required. */
  boolean(key: Field<T>, fallback?: boolean): boolean {
    const value = this.#fields[key] ?? fallback;
    if (typeof value !== 'boolean') throw this.#bad(key, 'be a boolean');
    return value;
  }

  /** An integer field within `range`; `fallback` when absent (`undefined`: optional). */
  integer<F extends number | undefined = undefined>(
    key: Field<T>,
    range: IntegerRange,
    fallback?: F,
  ): number | F {
    const value = this.#fields[key];
    if (value === undefined) return fallback as F;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      throw this.#bad(key, `be an integer from ${range.min} to ${range.max}`);
    }
    return value;
  }

  /** A millisecond field, an integer from 1 to the longest timer Node takes; `fallback` when absent. */
  millis(key: Field<T>, fallback: number): number {
    return this.integer(key, MILLIS, fallback);
  }

  /** A string field; `pattern` (with its rule in words) restricts it further; `fallback` when absent. */
  string<F extends string | undefined = undefined>(
    key: Field<T>,
    fallback?: F,
    pattern?: { regex: RegExp; rule: string },
  ): string | F {
    const value = this.#fields[key];
    if (value === undefined) return fallback as F;
    if (typeof value !== 'string') throw this.#bad(key, 'be a string');
    if (pattern && !pattern.regex.test(value)) throw this.#bad(key, pattern.rule);
    return value;
  }

  /**
   * A queue name (see `QUEUE_NAME_PATTERN`, at most `MAX_QUEUE_NAME_LENGTH`); required. `label` is what messages
   * call it (`deadLetter:` for a name given in another field).
   */
  queueName(key: Field<T>, label = `${this.#prefix}${key}`): string {
    const value = this.#fields[key];
    if (typeof value !== 'string') throw this.#fail(`${label} must be a string, got ${describeValue(value)}`);
    if (!QUEUE_NAME_PATTERN.test(value)) {
      throw this.#fail(
        `${label} must match ${QUEUE_NAME_PATTERN} (lower-case a-z, 0-9, '_' and '-' words joined by single dots), got ${describeValue(value)}`,
      );
    }
    if (value.length > MAX_QUEUE_NAME_LENGTH) {
      throw this.#fail(`${label} must be at most ${MAX_QUEUE_NAME_LENGTH} characters, got ${value.length}`);
    }
    return value;
  }

  #bad(key: string, rule: string): MqError {
    return this.#fail(`${this.#prefix}${key} must ${rule}, got ${describeValue(this.#fields[key])}`);
  }
}

/** The names of `T`'s fields, as a reader reads them. */
export type Field<T> = Extract<keyof T, string>;

/** The error maker of a spec: `INVALID_OPTIONS`, or `INVALID_ARGUMENT` for a call's arguments. */
function complaint(errors: PackageErrors, spec: FieldsSpec): (message: string) => MqError {
  return spec.complaint === 'argument' ? errors.argument : errors.invalid;
}

/** `Array.isArray`, which throws on a revoked proxy: then the typed error. */
function isArray(value: object, fail: (message: string) => MqError, what: string): boolean {
  try {
    return Array.isArray(value);
  } catch (error) {
    throw fail(`${what} could not be read: ${errorText(error)}`);
  }
}

/**
 * A plain object: made by `{}` or `Object.create(null)` (or by another realm's `Object`, whose prototype's
 * prototype is `null` too). A class instance, whose fields may be inherited getters, is not one.
 */
function isPlainObject(value: object, fail: (message: string) => MqError, what: string): boolean {
  try {
    const proto: unknown = Object.getPrototypeOf(value);
    return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
  } catch (error) {
    throw fail(`${what} could not be read: ${errorText(error)}`);
  }
}

/**
 * One reader per field of the options interface `T`, keyed by its name: declared with `satisfies`, the table
 * must list every field of `T` and nothing else, so that the interface, the accepted names and the readers
 * cannot drift apart.
 */
export type ReaderTable<T extends object, Context = undefined> = {
  readonly [K in keyof T]-?: (read: OptionReader<T>, context: Context) => unknown;
};

/**
 * The names of a backend's own options (those of `T` beyond the shared `Shared`), each `true`: declared with
 * `satisfies`, the list must name every one of them and nothing else.
 */
export type ExtraKeys<T, Shared> = Readonly<Record<Exclude<keyof T, keyof Shared>, true>>;
