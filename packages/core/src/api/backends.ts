import { coreErrors } from '../spi/core-errors.js';
import { describeValue } from '../spi/describe.js';
import { errorText } from '../spi/errors.js';
import { redactUri } from '../spi/options/uri.js';
import type { SPI_VERSION } from '../spi/version.js';
import type { Connection, ConnectionOptions } from './connection.js';
import type { MqError } from './errors.js';
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
  /**
   * Queues take `routing: 'topic'`: senders give each message a topic, receivers take `topics` patterns, shared
   * by a `group` or each getting every match (`broadcast: true`); false: such a queue is refused with
   * `UNSUPPORTED`. Optional.
   * @default false
   */
  topicRouting?: boolean;
  /**
   * `queue.request()` and `message.reply()`: a sender's request gets the answer a receiver sends back, each
   * reply to its own request; false: `request()` rejects with `UNSUPPORTED`. Optional.
   * @default false
   */
  requestReply?: boolean;
  /**
   * The receivers of one name on one connection get the queue's messages in the queue's order (one link carries
   * them all, as an AMQP channel's consumers or the memory broker's), so `orderingKey` keeps each key's order
   * across them; false: each receiver has a link of its own, and the order holds per receiver only. Optional.
   * @default false
   */
  orderedAcrossReceivers?: boolean;
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
  /**
   * Creates a queue on a connection made by this backend (status `closed`). Typed as a `Buffer` queue: for
   * another body type (`codec`, `schema`) cast it, or construct the backend's queue class (`new AmqpQueue<Order>`).
   */
  createQueue(options: QueueOptions<unknown> & Record<string, unknown>, connection: Connection): Queue;
}

/**
 * Picks the backend that serves `uri`'s scheme (or, for an array of URIs, the one backend that serves all of
 * their schemes). Throws `UNSUPPORTED` naming the package to install when none of `backends` does, and
 * `INVALID_OPTIONS` when the URIs of an array need different backends.
 */
export function selectBackend(uri: string | readonly string[], backends: readonly Backend[]): Backend {
  const list = readList(uri, 'uri', coreErrors.invalid);
  if (list?.length === 0) throw coreErrors.invalid('uri as an array must list at least one URI, got none');
  const known = knownBackends(backends);
  const found = list
    ? list.map((one, i) => backendFor(one, known, `uri[${i}]`))
    : [backendFor(uri, known, 'uri')];
  const first = found[0] as Backend;
  const other = found.findIndex((backend) => backend !== first);
  if (other >= 0) {
    throw coreErrors.invalid(
      `uri[${other}] is served by ${found[other]?.name}, uri[0] by ${first.name}: every URI of a connection must be for one backend`,
    );
  }
  return first;
}

/** A served scheme list of each backend given, read once. */
interface KnownBackend {
  readonly backend: Backend;
  readonly schemes: readonly unknown[];
}

/**
 * The own elements of `value` when it is an array (a hole reads as `undefined`, never from a polluted
 * `Array.prototype`), `undefined` when it is not one; the typed error naming `field` when it cannot be read.
 */
function readList(value: unknown, field: string, fail: (message: string) => MqError): unknown[] | undefined {
  try {
    if (!Array.isArray(value)) return undefined;
    return Array.from({ length: value.length }, (_, i) => (Object.hasOwn(value, i) ? value[i] : undefined));
  } catch (error) {
    throw fail(`${field} could not be read: ${errorText(error)}`);
  }
}

/** `backends` as a list of descriptors with their schemes, or `INVALID_ARGUMENT` naming `backends`. */
function knownBackends(backends: unknown): KnownBackend[] {
  const list = readList(backends, 'backends', coreErrors.argument);
  if (list === undefined) {
    throw coreErrors.argument(
      `backends must be an array of backends such as [amqpBackend, mqttBackend], got ${describeValue(backends)}`,
    );
  }
  return list.map((backend, i) => {
    const schemes = readList(
      typeof backend === 'object' && backend !== null ? readField(backend, 'schemes', i) : undefined,
      `backends[${i}].schemes`,
      coreErrors.argument,
    );
    if (schemes === undefined) {
      throw coreErrors.argument(
        `backends[${i}] must be a backend (with schemes), got ${describeValue(backend)}`,
      );
    }
    return { backend: backend as Backend, schemes };
  });
}

/** An own field of a descriptor (`defineBackend` makes them so): never one inherited from a polluted prototype. */
function readField(backend: object, field: 'schemes', i: number): unknown {
  try {
    return Object.hasOwn(backend, field) ? (backend as Record<string, unknown>)[field] : undefined;
  } catch (error) {
    throw coreErrors.argument(`backends[${i}].${field} could not be read: ${errorText(error)}`);
  }
}

function backendFor(uri: unknown, backends: readonly KnownBackend[], field: string): Backend {
  // Only a string: `new URL()` would turn any object into one through its toString().
  if (typeof uri !== 'string')
    throw coreErrors.invalid(`${field} must be a URI string, got ${describeValue(uri)}`);
  let scheme: string;
  try {
    scheme = new URL(uri).protocol.replace(/:$/, '');
  } catch {
    throw coreErrors.invalid(
      `${field} must be a valid URI like amqp://host or mqtt://host, got ${describeValue(redactUri(uri))}`,
    );
  }
  const found = backends.find((known) => known.schemes.includes(scheme));
  if (found) return found.backend;
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
