/** A short, safe description of a value for error messages (never dumps whole objects, never throws). */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return value === null ? 'null' : describeObject(value as object);
  }
}

/**
 * `an array`, `an object` for a plain object, `an instance of Foo` for anything made by a class (a Buffer, a
 * Date, ...); `an unreadable object` for one that throws when looked at (a revoked proxy, say).
 */
function describeObject(value: object): string {
  try {
    if (Array.isArray(value)) return 'an array';
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === null || proto === Object.prototype) return 'an object';
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' && name !== 'Object'
      ? `an instance of ${name}`
      : 'an object';
  } catch {
    return 'an unreadable object';
  }
}
