import fc from 'fast-check';

// The values an app (or a compromised dependency of it) can hand mq. fast-check generates plain data and recipes
// (`Hostile`), and `materialize` turns recipes into the real thing inside the property: a counterexample then
// prints as data (a revoked proxy cannot even be printed), and each run gets fresh objects.

/** The secrets the generated inputs may carry: no error message, event or log line may ever show one. */
export const SECRETS = Object.freeze({
  password: 'Pw-fuzz-7Hq2',
  passphrase: 'Pp-fuzz-9Kd4',
});

/** The kinds of {@link Hostile} recipes. */
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** Every kind of hostile value. */
const HOSTILE_KINDS = [
  'revoked proxy',
  'revoked function proxy',
  'proxy throwing on every trap',
  'object whose getters throw',
  'object without prototype',
  'object with an own __proto__ key',
  'class instance',
  'Map',
  'Set',
  'Date',
  'Error',
  'aborted AbortSignal',
  'live AbortSignal',
  'fake AbortSignal',
  'Buffer',
  'empty Buffer',
  'Uint8Array',
  'DataView over bytes',
  'ArrayBuffer',
  'sparse array',
  'frozen object',
  'symbol',
  'boxed string',
  'object posing as a URI',
  'object whose toString throws',
  'function that throws',
  'async function that rejects',
  'promise',
] as const;

/** A recipe for a value fast-check cannot make or print: made fresh by {@link materialize}. */
export class Hostile {
  constructor(readonly kind: HostileKind) {}

  /** How fast-check prints it in a counterexample. */
  [fc.toStringMethod](): string {
    return `hostile(${this.kind})`;
  }
}

/** Objects that throw when looked at, that are not plain, or that pose as something they are not. */
const MAKERS: Record<HostileKind, () => unknown> = {
  'revoked proxy': () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
  'revoked function proxy': () => {
    const { proxy, revoke } = Proxy.revocable(() => {}, {});
    revoke();
    return proxy;
  },
  'proxy throwing on every trap': () =>
    new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap get');
        },
        ownKeys: () => {
          throw new Error('trap ownKeys');
        },
        getPrototypeOf: () => {
          throw new Error('trap getPrototypeOf');
        },
        has: () => {
          throw new Error('trap has');
        },
      },
    ),
  'object whose getters throw': () =>
    Object.defineProperties(
      {},
      Object.fromEntries(
        ['uri', 'name', 'isRecv', 'headers', 'signal', 'status', 'tls', 'messageId', 'timeoutMillis'].map(
          (key) => [
            key,
            {
              enumerable: true,
              get: () => {
                throw new Error(`getter ${key}`);
              },
            },
          ],
        ),
      ),
    ),
  'object without prototype': () => Object.create(null),
  'object with an own __proto__ key': () => JSON.parse('{"__proto__": {"isRecv": true}, "name": "x"}'),
  'class instance': () =>
    new (class Options {
      name = 'jobs';
      isRecv = false;
    })(),
  Map: () => new Map([['name', 'jobs']]),
  Set: () => new Set(['status']),
  Date: () => new Date(0),
  Error: () => new Error('an error as a value'),
  'aborted AbortSignal': () => AbortSignal.abort(new Error('aborted before')),
  'live AbortSignal': () => new AbortController().signal,
  'fake AbortSignal': () => Object.create(AbortSignal.prototype),
  Buffer: () => Buffer.from('payload'),
  'empty Buffer': () => Buffer.alloc(0),
  Uint8Array: () => new Uint8Array([1, 2, 3]),
  'DataView over bytes': () => new DataView(new ArrayBuffer(4)),
  ArrayBuffer: () => new ArrayBuffer(4),
  'sparse array': () => {
    const sparse: unknown[] = [];
    sparse[3] = 'x';
    return sparse;
  },
  'frozen object': () => Object.freeze({ name: 'jobs' }),
  symbol: () => Symbol('hostile'),
  'boxed string': () => new String('amqp://localhost'),
  'object posing as a URI': () => ({ toString: () => 'memory://posing' }),
  'object whose toString throws': () => ({
    toString: () => {
      throw new Error('toString');
    },
  }),
  'function that throws': () => () => {
    throw new Error('a function as a value');
  },
  'async function that rejects': () => async () => {
    throw new Error('rejected');
  },
  promise: () => Promise.resolve('value'),
};

/** Any hostile recipe. */
export const hostile: fc.Arbitrary<Hostile> = fc
  .constantFrom(...HOSTILE_KINDS)
  .map((kind) => new Hostile(kind));

/** Numbers at and beyond every edge: `NaN`, `-0`, infinities, fractions, the int32 and safe-integer limits. */
export const edgyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    -0,
    0,
    1,
    -1,
    0.5,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2_147_483_647,
    2_147_483_648,
    65_535,
    65_536,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
  ),
  fc.integer(),
  fc.double(),
);

/** Strings of every kind: ASCII, any code unit (lone surrogates, control characters), long ones, and the edges. */
export const edgyString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ minLength: 200, maxLength: 2000 }),
  fc.constantFrom(
    '',
    ' ',
    '__proto__',
    'constructor',
    'toString',
    '\u0000',
    '\ud800',
    'mq-deliveries',
    'x-death',
  ),
);

/** Anything at all: fast-check's `anything` (null prototypes, maps, sparse arrays, ...) and the hostile recipes. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostile, weight: 3 },
  { arbitrary: edgyNumber, weight: 2 },
  { arbitrary: edgyString, weight: 2 },
  { arbitrary: fc.constantFrom(undefined, null, true, false), weight: 2 },
  { arbitrary: fc.bigInt(), weight: 1 },
  {
    arbitrary: fc.anything({
      withNullPrototype: true,
      withMap: true,
      withSet: true,
      withBigInt: true,
      withDate: true,
      withTypedArray: true,
      withSparseArray: true,
      withBoxedValues: true,
      withObjectString: true,
      maxDepth: 2,
    }),
    weight: 2,
  },
);

/**
 * An options object for an entry point that knows `fields`: mostly plain objects whose keys are known fields
 * (each with a value from `values` when it has one, else anything) plus now and then an unknown one; sometimes
 * anything at all instead of an object.
 */
export function optionsObject(
  fields: Readonly<Record<string, fc.Arbitrary<unknown>>>,
): fc.Arbitrary<unknown> {
  const known = Object.keys(fields);
  const valueFor = (key: string): fc.Arbitrary<unknown> =>
    fc.oneof({ arbitrary: fields[key] ?? anyValue, weight: 4 }, { arbitrary: anyValue, weight: 1 });
  const record = fc
    .uniqueArray(fc.constantFrom(...known), { maxLength: known.length })
    .chain((keys) => fc.tuple(...keys.map((key) => valueFor(key).map((value) => [key, value] as const))))
    .chain((entries) =>
      fc.oneof(
        { arbitrary: fc.constant(entries), weight: 8 },
        {
          arbitrary: fc
            .tuple(edgyString, anyValue)
            .map(([key, value]) => [...entries, [key, value] as const]),
          weight: 1,
        },
      ),
    )
    .chain((entries) =>
      fc.boolean().map((nullPrototype) => {
        const target: Record<string, unknown> = nullPrototype ? Object.create(null) : {};
        // defineProperty: an own `__proto__` key stays a key, as JSON.parse would make it.
        for (const [key, value] of entries) {
          Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
        }
        return target;
      }),
    );
  return fc.oneof({ arbitrary: record, weight: 9 }, { arbitrary: anyValue, weight: 1 });
}

/**
 * `value` with every {@link Hostile} recipe inside plain objects and arrays made into the real thing. Called in
 * the property, so that each run gets fresh objects (an AbortController, a proxy) and prints as data.
 */
export function materialize(value: unknown): unknown {
  if (value instanceof Hostile) return MAKERS[value.kind]();
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i += 1) if (Object.hasOwn(value, i)) copy[i] = materialize(value[i]);
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    const copy: Record<string, unknown> = proto === null ? Object.create(null) : {};
    for (const key of Object.keys(value)) {
      const item = materialize((value as Record<string, unknown>)[key]);
      Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }
  return value;
}
