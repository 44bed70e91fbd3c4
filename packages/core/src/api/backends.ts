import { coreErrors } from '../spi/core-errors.js';
import { describeValue } from '../spi/describe.js';
import { redactUri } from '../spi/options/uri.js';
import type { SPI_VERSION } from '../spi/version.js';
import type { Connection, ConnectionOptions } from './connection.js';
import type { Queue, QueueOptions } from './queue.js';

/**
 * What a backend can do. The conformance contract skips (visibly) the cases whose capability is false, so
 * declare these honestly; where a capability is false the contract checks the backend refuses the feature with
 * `UNSUPPORTED` when it can tell. Capabilities added after SPI version 1 shipped are optional: one a backend does
 * not declare reads as false for its own cases, and the refusal cases run only where it is declared `false`.
 */
export interface Capabilities {
  /** Broadcast (fan-out) queues are supported. */
  broadcast: boolean;
  /** A broadcast queue and a unicast queue of the same name are separate: no message crosses between them. */
  broadcastIsolated: boolean;
  /** `nack()` puts the message back and it is delivered again. */
  nackRequeue: boolean;
  /** Messages a receiver got but never acked are delivered again after that receiver closes. */
  redeliverUnacked: boolean;
  /**
   * Unicast messages that reached the broker while no receiver existed are kept until one comes, reliable and
   * best-effort ones alike, also after the sender's connection closed. False: a unicast message with no receiver
   * to take it may be dropped (MQTT with no persistent session).
   */
  retainUnicast: boolean;
  /** `prefetch` bounds how many unacked messages a receiver holds. */
  prefetch: boolean;
  /**
   * Several receivers of one name (unicast or broadcast) may share one connection: each broadcast receiver gets
   * every message, unicast ones share the work. False: the second one's `connect()` throws `UNSUPPORTED` (MQTT
   * cannot tell their messages apart). Optional (added after SPI version 1): a backend that does not declare it
   * reads as false, and the contract neither runs the cases that need it nor the one that checks the refusal.
   * @default false
   */
  sameConnectionReceivers?: boolean;
  /**
   * `uri` takes an array of broker addresses: the connection moves on to the next one after each failed attempt
   * or lost link (core's `BaseConnection` rotates; the backend connects to `addressIndex`), and `address` names
   * the current one. Optional (added after SPI version 1).
   * @default false
   */
  multipleAddresses?: boolean;
  /**
   * `sendMsg`'s `SendOptions` (headers, message and correlation ids, content type, expiration) reach the receiver's
   * `Message`. False: a send with any of them rejects with `UNSUPPORTED`. Optional (added after SPI version 1).
   * @default false
   */
  metadata?: boolean;
  /**
   * Receivers take `deadLetter`: a message given up on after `maxDeliveries` is published, confirmed, to that
   * unicast queue before the original is acked (the queue's `republish()`); false: `deadLetter` is refused with
   * `UNSUPPORTED` (`maxDeliveries` alone, which drops, works everywhere). Optional (added after SPI version 1).
   * @default false
   */
  deadLetter?: boolean;
  /**
   * A message's `deliveryCount` grows with each time it is handed out again (the broker's count, a header on
   * the failure policy's copies, or the backend's own), so that `maxDeliveries` holds; false: `maxDeliveries`
   * is refused with `UNSUPPORTED` (a limit that never triggers would be a silent gap). Optional.
   * @default false
   */
  countsDeliveries?: boolean;
  /**
   * A retried or dead-lettered message is moved exactly once, also when the link drops between its copy and
   * the ack of the original; false: at least once (the original comes again beside its copy). Optional.
   * @default false
   */
  movesExactlyOnce?: boolean;
  /**
   * A failed message's retry goes behind the messages already waiting, in the queue every receiver of that name
   * takes from (a copy published at its tail, or the original handed back there once its delay is over): another
   * receiver can take it while the one it failed on is busy. False: it is retried by the receiver it failed on
   * (MQTT, which cannot hand a message back). Optional.
   * @default false
   */
  retriesBehind?: boolean;
  /**
   * A message a broadcast receiver nacks, or whose handler fails, is handed to that same receiver again (never to
   * the other receivers); false: broadcast messages are settled on delivery (PUB/SUB without acks), so a nack or
   * a failure drops them. Optional.
   * @default false
   */
  broadcastRedelivery?: boolean;
}

/** The object a backend package exports for the testkit and for scheme-based selection. */
export interface Backend {
  /** The plug-in contract version the backend implements; always {@link SPI_VERSION} for now. */
  readonly spiVersion: typeof SPI_VERSION;
  /** The package name, e.g. `@mq/amqp`. */
  readonly name: string;
  /** URI schemes served, without the colon, e.g. `['amqp', 'amqps']`. */
  readonly schemes: readonly string[];
  /** What the backend can do. */
  readonly capabilities: Readonly<Capabilities>;
  /** Creates a connection (status `closed`); options are validated by the backend. */
  createConnection(options: ConnectionOptions & Record<string, unknown>): Connection;
  /** Creates a queue on a connection made by this backend (status `closed`). */
  createQueue(options: QueueOptions & Record<string, unknown>, connection: Connection): Queue;
}

/**
 * Picks the backend that serves `uri`'s scheme (or, for an array of URIs, the one backend that serves all of
 * their schemes). Throws `UNSUPPORTED` naming the package to install when none of `backends` does, and
 * `INVALID_OPTIONS` when the URIs of an array need different backends.
 */
export function selectBackend(uri: string | readonly string[], backends: readonly Backend[]): Backend {
  const uris: readonly unknown[] = Array.isArray(uri) ? uri : [uri];
  if (uris.length === 0) throw coreErrors.invalid('uri as an array must list at least one URI, got none');
  const found = uris.map((one) => backendFor(one, backends));
  const first = found[0] as Backend;
  const other = found.findIndex((backend) => backend !== first);
  if (other >= 0) {
    throw coreErrors.invalid(
      `uri[${other}] is served by ${found[other]?.name}, uri[0] by ${first.name}: every URI of a connection must be for one backend`,
    );
  }
  return first;
}

function backendFor(uri: unknown, backends: readonly Backend[]): Backend {
  let scheme: string;
  try {
    scheme = new URL(uri as string).protocol.replace(/:$/, '');
  } catch {
    throw coreErrors.invalid(
      `uri must be a valid URI like amqp://host or mqtt://host, got ${describeValue(typeof uri === 'string' ? redactUri(uri) : uri)}`,
    );
  }
  const found = backends.find((backend) => backend.schemes.includes(scheme));
  if (found) return found;
  const hint = packageForScheme(scheme);
  throw coreErrors.error(
    'UNSUPPORTED',
    `no backend serves ${scheme}: URIs${hint ? `; install ${hint} (npm install ${hint})` : ''}`,
  );
}

/** The first-party package that serves a URI scheme (given without the colon), if any: `amqp` -> `@mq/amqp`. */
export function packageForScheme(scheme: string): string | undefined {
  return Object.hasOwn(KNOWN_PACKAGES, scheme) ? KNOWN_PACKAGES[scheme] : undefined;
}

/** The first-party package for each well-known scheme. */
const KNOWN_PACKAGES: Readonly<Record<string, string>> = {
  amqp: '@mq/amqp',
  amqps: '@mq/amqp',
  mqtt: '@mq/mqtt',
  mqtts: '@mq/mqtt',
  ws: '@mq/mqtt',
  wss: '@mq/mqtt',
  memory: '@mq/memory',
};
