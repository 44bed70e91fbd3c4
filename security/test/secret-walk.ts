import { inspect } from 'node:util';

// Finds every path from an object to a secret, through what `util.inspect(x, { showHidden: true, getters: true })`
// shows: own properties (string and symbol keys, enumerable or not), own accessors (their getters are called),
// Map and Set entries, and, as inspect does with showHidden, the getters of an object's non-built-in prototypes
// (class getters), called on it. A secret counts in a string, and in the bytes of a Buffer or typed array.
// Private `#fields` and closures are reached by neither.

/** Constructors of the language and of Node, whose prototypes inspect does not list. */
const BUILT_IN = new Set<unknown>(
  Object.getOwnPropertyNames(globalThis)
    .filter((name) => /^[A-Z]/.test(name))
    .map((name) => (globalThis as Record<string, unknown>)[name])
    .filter((value) => typeof value === 'function'),
);

/** How deep to walk, and how much at most. */
const MAX_DEPTH = 12;
const MAX_NODES = 2_000_000;

function label(key: string | symbol): string {
  if (typeof key === 'symbol') return `[${key.toString()}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** The names of the secrets `value` holds (a string containing one, or bytes containing its UTF-8 bytes). */
function holds(value: unknown, secrets: Readonly<Record<string, string>>): string[] {
  const names: string[] = [];
  if (typeof value === 'string') {
    for (const [name, secret] of Object.entries(secrets)) if (value.includes(secret)) names.push(name);
  } else if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    for (const [name, secret] of Object.entries(secrets))
      if (bytes.includes(Buffer.from(secret))) names.push(name);
  }
  return names;
}

/**
 * Every path (at most a few per secret) from `root` to a value holding one of `secrets`, named by the secret:
 * `{ password: ['root.link.client.options.password'] }`; empty when none is reachable.
 */
export function secretPaths(
  root: unknown,
  secrets: Readonly<Record<string, string>>,
): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  const seen = new WeakSet<object>();
  const queue: Array<[unknown, string, number]> = [[root, 'root', 0]];
  let nodes = 0;
  while (queue.length > 0 && nodes < MAX_NODES) {
    const [value, path, depth] = queue.shift() as [unknown, string, number];
    nodes += 1;
    for (const name of holds(value, secrets)) {
      const list = found[name] ?? [];
      if (list.length < 5) list.push(path);
      found[name] = list;
    }
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) continue;
    if (ArrayBuffer.isView(value) || seen.has(value) || depth >= MAX_DEPTH) continue;
    seen.add(value);
    const next = (item: unknown, where: string): void => {
      queue.push([item, where, depth + 1]);
    };
    if (value instanceof Map) {
      let i = 0;
      for (const [key, item] of value) {
        next(key, `${path}.<key ${i}>`);
        next(item, `${path}.<value ${i}>`);
        i += 1;
      }
    } else if (value instanceof Set) {
      let i = 0;
      for (const item of value) next(item, `${path}.<item ${i++}>`);
    }
    let keys: (string | symbol)[];
    try {
      keys = Reflect.ownKeys(value);
    } catch {
      continue;
    }
    for (const key of keys) {
      const read = readOwn(value, key);
      if (read.ok) next(read.value, `${path}${label(key)}`);
    }
    // Class getters, as inspect shows them with showHidden: accessors of non-built-in prototypes.
    let proto = safePrototype(value);
    while (proto !== null && proto !== Object.prototype && !BUILT_IN.has(safeConstructor(proto))) {
      for (const key of Reflect.ownKeys(proto)) {
        if (key === 'constructor' || keys.includes(key)) continue;
        const getter = Object.getOwnPropertyDescriptor(proto, key)?.get;
        if (!getter) continue;
        try {
          next(getter.call(value), `${path}${label(key)}`);
        } catch {
          // A getter that throws on this object shows nothing.
        }
      }
      proto = safePrototype(proto);
    }
  }
  return found;
}

function readOwn(value: object, key: string | symbol): { ok: true; value: unknown } | { ok: false } {
  try {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (!descriptor) return { ok: false };
    if ('value' in descriptor) return { ok: true, value: descriptor.value };
    if (descriptor.get) return { ok: true, value: descriptor.get.call(value) };
  } catch {
    // A getter that throws shows nothing.
  }
  return { ok: false };
}

function safePrototype(value: object): object | null {
  try {
    return Object.getPrototypeOf(value) as object | null;
  } catch {
    return null;
  }
}

function safeConstructor(proto: object): unknown {
  try {
    return (proto as { constructor?: unknown }).constructor;
  } catch {
    return undefined;
  }
}

/** How often each secret appears in `util.inspect(root, { showHidden: true, getters: true, depth: 12 })`. */
export function inspectHits(
  root: unknown,
  secrets: Readonly<Record<string, string>>,
): Record<string, number> {
  let text: string;
  try {
    text = inspect(root, {
      showHidden: true,
      getters: true,
      depth: MAX_DEPTH,
      maxArrayLength: 10_000,
      maxStringLength: Number.POSITIVE_INFINITY,
    });
  } catch (error) {
    return { 'inspect threw': 1, [String(error)]: 1 };
  }
  const hits: Record<string, number> = {};
  for (const [name, secret] of Object.entries(secrets)) {
    const count = text.split(secret).length - 1;
    if (count > 0) hits[name] = count;
  }
  return hits;
}
