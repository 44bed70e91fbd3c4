import { DEFAULT_RECONNECT_MAX_MILLIS, MAX_ADDRESSES, MAX_TIMER_MILLIS } from '../../api/limits.js';
import { checkUri, describeValue, invalid, readInteger, readOptions } from './options.js';

/** Connection option names every backend takes. */
export const CONNECTION_OPTION_KEYS = [
  'uri',
  'connectTimeoutMillis',
  'reconnectMillis',
  'reconnectMaxMillis',
] as const;

/** How a backend's connection options are read. */
export interface ConnectionOptionsSpec {
  /** The URI schemes the backend serves, without the colon; the first one names the example in errors. */
  schemes: readonly string[];
  /** The URI used when none is given. */
  defaultUri: string;
  /** The backend's own option names, which it reads itself from the returned `options`. */
  extraKeys?: readonly string[];
}

/** The shared connection options after validation, defaults filled in. */
export interface SharedConnectionOptions {
  /** The first (or only) parsed URI (the default when none was given), credentials included: keep it private. */
  url: URL;
  /** Every parsed URI, in the order given (`[url]` for a single one), credentials included: keep them private. */
  urls: URL[];
  /** See {@link ConnectionOptions.connectTimeoutMillis}. */
  connectTimeoutMillis: number;
  /** See {@link ConnectionOptions.reconnectMillis}. */
  reconnectMillis: number;
  /** See {@link ConnectionOptions.reconnectMaxMillis}. */
  reconnectMaxMillis: number;
}

/**
 * Validates a connection options object: a plain object whose keys are the shared ones or `extraKeys`, the URI
 * of one of `schemes`, and the shared timings. Returns the shared values and the options record, from which the
 * backend reads its own fields. Throws `INVALID_OPTIONS` naming the field and the rule.
 */
export function resolveSharedConnectionOptions(
  pkg: string,
  input: unknown,
  spec: ConnectionOptionsSpec,
): { shared: SharedConnectionOptions; options: Record<string, unknown> } {
  const options = readOptions(
    pkg,
    input,
    [...CONNECTION_OPTION_KEYS, ...(spec.extraKeys ?? [])],
    'connection options',
  );
  const urls = readUris(pkg, options.uri ?? spec.defaultUri, spec.schemes);
  const url = urls[0] as URL;
  const millis = { min: 1, max: MAX_TIMER_MILLIS };
  const connectTimeoutMillis = readInteger(pkg, options, 'connectTimeoutMillis', millis, 3000) as number;
  const reconnectMillis = readInteger(pkg, options, 'reconnectMillis', millis, 1000) as number;
  const reconnectMaxMillis = readInteger(
    pkg,
    options,
    'reconnectMaxMillis',
    millis,
    Math.max(DEFAULT_RECONNECT_MAX_MILLIS, reconnectMillis),
  ) as number;
  if (reconnectMaxMillis < reconnectMillis) {
    throw invalid(
      pkg,
      `reconnectMaxMillis must be at least reconnectMillis (${reconnectMillis}), got ${reconnectMaxMillis}`,
    );
  }
  return { shared: { url, urls, connectTimeoutMillis, reconnectMillis, reconnectMaxMillis }, options };
}

/** `uri` as one URI or a non-empty array of them, each of one of `schemes`. */
function readUris(pkg: string, value: unknown, schemes: readonly string[]): URL[] {
  if (typeof value === 'string') return [checkUri(pkg, 'uri', value, schemes)];
  if (!Array.isArray(value)) {
    throw invalid(pkg, `uri must be a URI string or an array of them, got ${describeValue(value)}`);
  }
  if (value.length === 0 || value.length > MAX_ADDRESSES) {
    throw invalid(pkg, `uri as an array must list 1 to ${MAX_ADDRESSES} URIs, got ${value.length}`);
  }
  return value.map((item, i) => checkUri(pkg, `uri[${i}]`, item, schemes));
}
