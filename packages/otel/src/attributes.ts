import type { MqError } from '@mq/core';
import type { Attributes } from '@opentelemetry/api';

/** `messaging.system` for each mq backend package; another backend is named by its package. */
const SYSTEMS: Readonly<Record<string, string>> = {
  'mq/amqp': 'rabbitmq',
  'mq/mqtt': 'mqtt',
  'mq/memory': 'mq_memory',
};

/** The `messaging.system` of a backend package (`mq/amqp` → `rabbitmq`). */
export function messagingSystem(backend: string): string {
  return SYSTEMS[backend] ?? backend.replace(/^@/, '').replace(/[^a-z0-9]+/gi, '_');
}

/** `server.address` and `server.port` of a broker URI (password already redacted), when it has them. */
export function serverAttributes(address: string | undefined): Attributes {
  if (address === undefined) return {};
  try {
    const url = new URL(address);
    return {
      'server.address': url.hostname,
      ...(url.port === '' ? {} : { 'server.port': Number(url.port) }),
    };
  } catch {
    return {};
  }
}

/** `error.type`: the mq error code, or the error's class name. */
export function errorType(error: unknown): string {
  const code = (error as MqError | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : '_OTHER';
}
