import { type Backend, MqError, packageForScheme } from '@mq/core';

function isBackend(value: unknown): value is Backend {
  return typeof value === 'object' && value !== null && 'spiVersion' in value && 'createConnection' in value;
}

/** Loads the backend package for `uri`'s scheme; explains which package to install when it is missing. */
export async function loadBackend(uri: string): Promise<Backend> {
  const scheme = new URL(uri).protocol.replace(/:$/, '');
  const pkg = packageForScheme(scheme);
  if (!pkg)
    throw new MqError('UNSUPPORTED', `no mq backend serves ${scheme}: URIs (try amqp:, mqtt: or memory:)`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pkg)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new MqError('UNSUPPORTED', `${scheme}: URIs need the ${pkg} package: npm install ${pkg}`, {
        cause: error,
      });
    }
    throw error;
  }
  const backend = Object.values(module).find(isBackend);
  if (!backend) throw new MqError('UNSUPPORTED', `${pkg} exports no backend descriptor`);
  return backend;
}
