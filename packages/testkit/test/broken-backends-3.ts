import {
  type Backend,
  type Connection,
  type Message,
  type Queue,
  type QueueOptions,
  waitForStatus,
} from '@mq/core';
import { type MemoryConnection, memoryBackend } from '@mq/memory';
import { wrapHandler } from './broken-backends.js';

// Broken memory backends for the third round of the contract (issues 32 and 33): each has one defect a backend
// author could plausibly ship, built from the public API (wrapped queues, connections and options).

/** The memory backend with every queue made by `make`, which also gets the connection: a deliberately broken backend. */
function brokenWithConnection(
  name: string,
  make: (options: QueueOptions & Record<string, unknown>, connection: Connection) => Queue,
): Backend {
  return { ...memoryBackend, name, createQueue: make };
}

/** A second connection to the same in-process broker as `connection`, connected, for a variant's own sends. */
function sideConnection(connection: Connection): Connection {
  const side = memoryBackend.createConnection({
    uri: `memory://${(connection as MemoryConnection).broker.name}`,
  });
  side.connect();
  return side;
}

/** A connected sender of `name` on `connection`, made on first use. */
function lazySender(
  connection: () => Connection,
  options: Pick<QueueOptions, 'name' | 'broadcast'>,
): () => Promise<Queue> {
  let sender: Queue | undefined;
  return async () => {
    sender ??= (() => {
      const queue = memoryBackend.createQueue(
        { name: options.name, broadcast: options.broadcast ?? false, isRecv: false, reliable: true },
        connection(),
      );
      queue.connect();
      return queue;
    })();
    await waitForStatus(sender, 'connected', { timeoutMillis: 5_000 });
    return sender;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The memory defect of issue 33, from the outside.

/**
 * Moves a dead letter in two steps, as `@mq/memory` did: a link lost after the copy was stored (DEAD_LETTERED
 * reported) and before the original was acked hands the original out again, so it is dead-lettered twice. The
 * healthy backend now moves atomically; this hands the original back (a send on another connection) when the
 * link drops at that moment.
 */
export const deadLettersThenAcks = brokenWithConnection('dead-letters-then-acks', (options, connection) => {
  const queue = memoryBackend.createQueue(options, connection);
  const { maxDeliveries } = options;
  if (!options.isRecv || options.deadLetter === undefined || maxDeliveries === undefined) return queue;
  /** Messages failed for the last time, in order: the policy moves each and reports DEAD_LETTERED in that order. */
  const finals: Message[] = [];
  let moving: Message | undefined;
  let side: Connection | undefined;
  const send = lazySender(() => {
    side ??= sideConnection(connection);
    return side;
  }, options);
  queue.on('error', (error) => {
    if (error.code !== 'DEAD_LETTERED') return;
    moving = finals.shift();
    // The original is acked right after the report: past this turn the move is done.
    queueMicrotask(() => {
      moving = undefined;
    });
  });
  queue.on('status', (status) => {
    if (status === 'closed') void side?.close();
    if (status !== 'disconnected' || !moving) return;
    const original = moving;
    moving = undefined;
    void send()
      .then((sender) => sender.sendMsg(original.payload))
      .catch(() => {});
  });
  return wrapHandler(queue, (handler) => async (q, message) => {
    try {
      return await handler(q, message);
    } catch (error) {
      if ((message.deliveryCount ?? 0) + 1 >= maxDeliveries) finals.push(message);
      throw error;
    }
  });
});
