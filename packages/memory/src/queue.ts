import {
  BaseQueue,
  type Connection,
  ownConnection,
  type QueueOptions,
  type QueueSetup,
  type ResolvedQueueOptions,
  resolveQueueOptions,
  type UntypedQueueOptions,
} from '@mq/core/spi';
import { MemoryConnection } from './connection.js';
import { errors } from './errors.js';
import { type MemoryLink, memoryLinkOf } from './link.js';
import { MemoryQueueDriver } from './queue-driver.js';
import { MEMORY_TRAITS } from './traits.js';

/** Options of a {@link MemoryQueue}: the shared queue options; `T` is the body type. */
export interface MemoryQueueOptions<T = Buffer> extends QueueOptions<T> {
  /**
   * Receivers only: the most unacked messages held at once, from 1 to 65535.
   * @default 100
   */
  prefetch?: number;
}

/** A queue on an in-process broker: unicast mailboxes, fan-out exchanges, prefetch, ack and nack with requeue. */
export class MemoryQueue<T = Buffer> extends BaseQueue<ResolvedQueueOptions, T> {
  /** Validates the options and that `connection` is a {@link MemoryConnection}; the queue starts `closed`. */
  constructor(options: MemoryQueueOptions<T>, connection: MemoryConnection) {
    super(memoryQueueSetup(options, connection));
  }
}

// #region spi
/**
 * What a {@link MemoryQueue} passes to `BaseQueue`: its validated options, `MEMORY_TRAITS` and its driver.
 * For queue classes built on this backend's driver (the testkit's deliberately broken backends wrap it); throws
 * `INVALID_OPTIONS` for bad options or a connection of another backend.
 */
export function memoryQueueSetup(
  options: UntypedQueueOptions<MemoryQueueOptions>,
  connection: Connection,
): QueueSetup {
  const resolved = resolveQueueOptions<MemoryQueueOptions>(errors, options, {}).options;
  const conn = ownConnection(errors, connection, MemoryConnection);
  const link = memoryLinkOf(conn) as MemoryLink;
  return {
    errors,
    options: resolved,
    connection: conn,
    traits: MEMORY_TRAITS,
    driver: (core) => new MemoryQueueDriver(core, link),
  };
}
// #endregion spi
