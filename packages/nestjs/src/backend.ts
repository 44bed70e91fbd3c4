import { type Backend, MqError, packageForScheme, selectBackend } from '@mq/core';
import { nestError } from './errors.js';

function isBackend(value: unknown): value is Backend {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Backend>;
  return (
    typeof candidate.spiVersion === 'number' &&
    Array.isArray(candidate.schemes) &&
    typeof candidate.createConnection === 'function' &&
    typeof candidate.createQueue === 'function'
  );
}

function schemesOf(uri: string | readonly string[]): string[] {
  const uris = typeof uri === 'string' ? [uri] : uri;
  const schemes = new Set<string>();
  for (const one of uris) {
    try {
      schemes.add(new URL(one).protocol.replace(/:$/, ''));
    } catch {
      // selectBackend reports the malformed URI, naming the field.
    }
  }
  return [...schemes];
}

function isMissingModule(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** The backend descriptors a first-party package exports (`amqpBackend`, ...), loaded on demand. */
async function loadFirstParty(pkg: string, scheme: string): Promise<Backend[]> {
  let loaded: Record<string, unknown>;
  try {
    // A variable specifier: bundlers leave it alone, and an app installs only the backend it uses.
    loaded = (await import(pkg)) as Record<string, unknown>;
  } catch (error) {
    if (isMissingModule(error))
      throw nestError('UNSUPPORTED', `${scheme}: URIs need the ${pkg} package: npm install ${pkg}`, error);
    throw nestError('UNSUPPORTED', `loading ${pkg} for ${scheme}: URIs failed: ${String(error)}`, error);
  }
  return Object.values(loaded).filter(isBackend);
}

/**
 * The backend serving `uri`: picked by core's `selectBackend` from `backends` when given, otherwise from the
 * first-party package of each scheme (`packageForScheme`), imported when first needed.
 */
export async function resolveBackend(
  uri: string | readonly string[],
  backends: readonly Backend[] | undefined,
): Promise<Backend> {
  if (backends !== undefined) return selectBackend(uri, backends);
  const found: Backend[] = [];
  for (const scheme of schemesOf(uri)) {
    const pkg = packageForScheme(scheme);
    if (pkg !== undefined) found.push(...(await loadFirstParty(pkg, scheme)));
  }
  try {
    return selectBackend(uri, found);
  } catch (error) {
    if (MqError.isInstance(error)) throw error;
    throw nestError('INVALID_OPTIONS', `uri: ${String(error)}`, error);
  }
}
