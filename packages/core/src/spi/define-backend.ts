import type { Backend, Capabilities } from '../api/backends.js';
import type { Connection } from '../api/connection.js';
import { coreErrors } from './core-errors.js';
import { describeValue } from './describe.js';
import type { PackageErrors } from './errors.js';
import { isInstanceOf } from './guards.js';
import { SPI_VERSION } from './version.js';

/**
 * Each capability, required (in SPI version 1) or optional (added since): the compiler refuses this object as soon
 * as `Capabilities` gains or loses a key, so that `defineBackend` can never drop a capability it was not told of.
 */
const CAPABILITY_KINDS = {
  broadcast: 'required',
  broadcastIsolated: 'required',
  nackRequeue: 'required',
  redeliverUnacked: 'required',
  retainUnicast: 'required',
  prefetch: 'required',
  sameConnectionReceivers: 'optional',
  multipleAddresses: 'optional',
  metadata: 'optional',
  deadLetter: 'optional',
  countsDeliveries: 'optional',
  movesExactlyOnce: 'optional',
  retriesBehind: 'optional',
  broadcastRedelivery: 'optional',
  topicRouting: 'optional',
  requestReply: 'optional',
  orderedAcrossReceivers: 'optional',
} as const satisfies Record<keyof Capabilities, 'required' | 'optional'>;

const ALL_CAPABILITY_KEYS = Object.keys(CAPABILITY_KINDS) as (keyof Capabilities)[];
const CAPABILITY_KEYS = ALL_CAPABILITY_KEYS.filter((key) => CAPABILITY_KINDS[key] === 'required');

/** Capabilities added after SPI version 1: optional, absent reads as false. */
const OPTIONAL_CAPABILITY_KEYS = ALL_CAPABILITY_KEYS.filter((key) => CAPABILITY_KINDS[key] === 'optional');

/**
 * For a backend's `createQueue`: returns `connection` typed as the backend's own connection class, or throws
 * `INVALID_OPTIONS` when it was made by another backend (or is not a connection at all).
 */
export function ownConnection<C extends Connection>(
  errors: PackageErrors,
  connection: Connection,
  type: abstract new (...args: never[]) => C,
): C {
  if (isInstanceOf(connection, type)) return connection;
  throw errors.invalid(
    `connection must be ${/^[AEIOU]/.test(type.name) ? 'an' : 'a'} ${type.name} made by this backend, got ${describeValue(connection)}`,
  );
}

/** Checks a backend descriptor's shape and version at runtime and returns it frozen. */
export function defineBackend(backend: Backend): Backend {
  if (typeof backend !== 'object' || backend === null)
    throw coreErrors.invalid(`backend must be an object, got ${describeValue(backend)}`);
  if (backend.spiVersion !== SPI_VERSION) {
    throw coreErrors.error(
      'UNSUPPORTED',
      `backend ${String(backend.name)} speaks SPI version ${String(backend.spiVersion)}, this @mq/core speaks ${SPI_VERSION}`,
    );
  }
  if (typeof backend.name !== 'string' || backend.name === '')
    throw coreErrors.invalid('backend.name must be a non-empty string');
  if (
    !Array.isArray(backend.schemes) ||
    backend.schemes.some((s) => typeof s !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(s))
  ) {
    throw coreErrors.invalid('backend.schemes must be an array of lower-case URI schemes without the colon');
  }
  for (const key of CAPABILITY_KEYS) {
    if (typeof backend.capabilities?.[key] !== 'boolean')
      throw coreErrors.invalid(`backend.capabilities.${key} must be a boolean`);
  }
  for (const key of OPTIONAL_CAPABILITY_KEYS) {
    const value = backend.capabilities[key];
    if (value !== undefined && typeof value !== 'boolean')
      throw coreErrors.invalid(
        `backend.capabilities.${key} must be a boolean when given, got ${describeValue(value)}`,
      );
  }
  if (typeof backend.createConnection !== 'function' || typeof backend.createQueue !== 'function') {
    throw coreErrors.invalid('backend.createConnection and backend.createQueue must be functions');
  }
  // The capabilities only: a backend may hand its whole traits here (what its queues also get), and the
  // descriptor says what the contract reads.
  const capabilities: Capabilities = {} as Capabilities;
  for (const key of ALL_CAPABILITY_KEYS) {
    const value = backend.capabilities[key];
    if (value !== undefined) capabilities[key] = value;
  }
  Object.freeze(capabilities);
  // createQueue is the backend's own: each refusal happens in the queue's constructor, whoever constructs it.
  return Object.freeze({ ...backend, capabilities });
}
