import { describeValue } from '../describe.js';
import type { PackageErrors } from '../errors.js';

/** A URI with its password replaced by `***`, for errors, events and logs. */
export function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<invalid uri>';
  }
}

/**
 * Parses `value` as a URI (the option `field`) and checks its scheme is one of `schemes` (given without the colon),
 * that it has no `#fragment` (never sent to a broker, so a sign of a mistake) and that its user and password
 * percent-decode; throws `INVALID_OPTIONS` naming the field, never echoing a password.
 */
export function checkUri(
  errors: PackageErrors,
  field: string,
  value: unknown,
  schemes: readonly string[],
): URL {
  if (typeof value !== 'string')
    throw errors.invalid(`${field} must be a string, got ${describeValue(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw errors.invalid(
      `${field} must be a valid URI like ${schemes[0]}://host:port, got ${describeValue(redactUri(value))}`,
    );
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) {
    throw errors.invalid(
      `${field} scheme must be one of ${schemes.map((s) => `${s}:`).join(', ')}, got ${scheme}:`,
    );
  }
  // The serialised form keeps an empty '#'; a '#' in the userinfo is percent-encoded there, so this is the delimiter.
  if (url.href.slice(url.href.indexOf('//') + 2).includes('#')) {
    throw errors.invalid(`${field} must not have a #fragment: it is never sent`);
  }
  for (const [part, raw] of [
    ['user', url.username],
    ['password', url.password],
  ] as const) {
    try {
      decodeURIComponent(raw);
    } catch {
      throw errors.invalid(
        `${field} ${part} has a malformed percent escape (write a literal % as %25), got ${describeValue(redactUri(url.toString()))}`,
      );
    }
  }
  return url;
}
