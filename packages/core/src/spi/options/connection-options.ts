import type { ConnectionOptions } from '../../api/connection.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MILLIS,
  DEFAULT_RECONNECT_MAX_MILLIS,
  DEFAULT_RECONNECT_MILLIS,
  MAX_ADDRESSES,
} from '../../api/limits.js';
import { describeValue } from '../describe.js';
import type { PackageErrors } from '../errors.js';
import { checkUri } from './uri.js';
import { type ExtraKeys, OptionReader, type ReaderTable } from './validate.js';

/** How a backend's connection options are read. */
export interface ConnectionOptionsSpec<T extends ConnectionOptions = ConnectionOptions> {
  /** The URI schemes the backend serves, without the colon; the first one names the example in errors. */
  readonly schemes: readonly string[];
  /** The URI used when none is given. */
  readonly defaultUri: string;
  /** The backend's own option names (each `true`), which it reads itself through the returned `read`. */
  readonly extraKeys: ExtraKeys<T, ConnectionOptions>;
}

/** The shared connection options after validation, defaults filled in. */
export interface SharedConnectionOptions {
  /** The first (or only) parsed URI (the default when none was given), credentials included: keep it private. */
  readonly url: URL;
  /** Every parsed URI, in the order given (`[url]` for a single one), credentials included: keep them private. */
  readonly urls: readonly URL[];
  /** See {@link ConnectionOptions.connectTimeoutMillis}. */
  readonly connectTimeoutMillis: number;
  /** See {@link ConnectionOptions.reconnectMillis}. */
  readonly reconnectMillis: number;
  /** See {@link ConnectionOptions.reconnectMaxMillis}. */
  readonly reconnectMaxMillis: number;
}

/** What reading `uri` needs besides the reader. */
interface UriContext {
  readonly errors: PackageErrors;
  readonly spec: ConnectionOptionsSpec;
}

/**
 * The reader of each shared connection option, defaults included: one entry per field of `ConnectionOptions`
 * (see `ReaderTable`), and the key list every backend accepts.
 */
const CONNECTION_OPTIONS = {
  uri: (read, context) => readUris(read, context),
  connectTimeoutMillis: (read) => read.millis('connectTimeoutMillis', DEFAULT_CONNECT_TIMEOUT_MILLIS),
  reconnectMillis: (read) => read.millis('reconnectMillis', DEFAULT_RECONNECT_MILLIS),
  // The default grows with a larger reconnectMillis, so that a long first wait is never cut short.
  reconnectMaxMillis: (read) =>
    read.millis(
      'reconnectMaxMillis',
      Math.max(DEFAULT_RECONNECT_MAX_MILLIS, read.millis('reconnectMillis', DEFAULT_RECONNECT_MILLIS)),
    ),
} as const satisfies ReaderTable<ConnectionOptions, UriContext>;

/**
 * Validates a connection options object: a plain object whose fields are the shared ones or `spec.extraKeys`
 * (own fields only), the URI of one of `spec.schemes`, and the shared timings. Returns the shared values and the
 * reader, through which the backend reads its own fields. Throws `INVALID_OPTIONS` naming the field and the rule.
 */
export function resolveSharedConnectionOptions<T extends ConnectionOptions = ConnectionOptions>(
  errors: PackageErrors,
  input: unknown,
  spec: ConnectionOptionsSpec<T>,
): { shared: SharedConnectionOptions; read: OptionReader<T> } {
  const read = new OptionReader<T>(errors, input, {
    what: 'connection options',
    keys: [...Object.keys(CONNECTION_OPTIONS), ...Object.keys(spec.extraKeys)],
  });
  const shared: OptionReader<ConnectionOptions> = read;
  const urls = CONNECTION_OPTIONS.uri(shared, { errors, spec });
  const reconnectMillis = CONNECTION_OPTIONS.reconnectMillis(shared);
  const reconnectMaxMillis = CONNECTION_OPTIONS.reconnectMaxMillis(shared);
  if (reconnectMaxMillis < reconnectMillis) {
    throw read.fail(
      `reconnectMaxMillis must be at least reconnectMillis (${reconnectMillis}), got ${reconnectMaxMillis}`,
    );
  }
  return {
    shared: Object.freeze({
      url: urls[0] as URL,
      urls,
      connectTimeoutMillis: CONNECTION_OPTIONS.connectTimeoutMillis(shared),
      reconnectMillis,
      reconnectMaxMillis,
    }),
    read,
  };
}

/** `uri` as one URI or a non-empty array of them (own elements only), each of one of the backend's schemes. */
function readUris(read: OptionReader<ConnectionOptions>, { errors, spec }: UriContext): URL[] {
  const value = read.raw('uri') ?? spec.defaultUri;
  if (typeof value === 'string') return [checkUri(errors, 'uri', value, spec.schemes)];
  let items: unknown[];
  try {
    if (!Array.isArray(value)) {
      throw errors.invalid(`uri must be a URI string or an array of them, got ${describeValue(value)}`);
    }
    if (value.length === 0 || value.length > MAX_ADDRESSES) {
      throw errors.invalid(`uri as an array must list 1 to ${MAX_ADDRESSES} URIs, got ${value.length}`);
    }
    // Own elements only: a hole is not filled in from a polluted Array.prototype.
    items = Array.from({ length: value.length }, (_, i) => (Object.hasOwn(value, i) ? value[i] : undefined));
  } catch (error) {
    throw errors.wrap(error, 'INVALID_OPTIONS', 'uri could not be read');
  }
  return items.map((item, i) => checkUri(errors, `uri[${i}]`, item, spec.schemes));
}
