import { checkUri, invalid, MAX_TIMER_MILLIS, readInteger, readOptions } from './options.js';

/** Connection option names every backend takes. */
export const CONNECTION_OPTION_KEYS = [
  'uri',
  'connectTimeoutMillis',
  'reconnectMillis',
  'reconnectMaxMillis',
] as const;

/** The default of `reconnectMaxMillis` (unless `reconnectMillis` is larger). */
export const DEFAULT_RECONNECT_MAX_MILLIS = 30_000;

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
  /** The parsed URI (the default when none was given), credentials included: keep it private. */
  url: URL;
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
  const url = checkUri(pkg, 'uri', options.uri ?? spec.defaultUri, spec.schemes);
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
  return { shared: { url, connectTimeoutMillis, reconnectMillis, reconnectMaxMillis }, options };
}
