import {
  type Backend,
  type Connection,
  type Message,
  type MessageHandler,
  type Queue,
  type QueueOptions,
  type SendOptions,
  waitForStatus,
} from '@mq/core';
import { type MemoryConnection, memoryBackend } from '@mq/memory';
import { brokenBackend, brokenOptions, override, replaced, wrapHandler } from './broken-backends.js';

// Broken memory backends for the third round of the contract (issues 32 and 33): each has one defect a backend
// author could plausibly ship, built from the public API (wrapped queues, connections and options).

/** The memory backend with every queue made by `make`, which also gets the connection: a deliberately broken backend. */
function brokenWithConnection(
  name: string,
  make: (options: QueueOptions<unknown> & Record<string, unknown>, connection: Connection) => Queue,
): Backend {
  return { ...memoryBackend, name, createQueue: make };
}

/** The same message with other fields, its ack and nack its own. */
function changed(message: Message, fields: Partial<Message>): Message {
  return {
    ...replaced(
      message,
      () => message.ack(),
      () => message.nack(),
    ),
    ...fields,
  };
}

/** Each delivered message passed through `change` before the handler sees it. */
function changedOnReceive(
  name: string,
  change: (message: Message, options: QueueOptions<unknown>) => Partial<Message> | undefined,
): Backend {
  return brokenBackend(name, (queue, options) => {
    if (!options.isRecv) return queue;
    return wrapHandler(queue, (handler) => (q, message) => {
      const fields = change(message, options);
      return handler(q, fields ? changed(message, fields) : message);
    });
  });
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

/** The key of a message of queue `name`, for variants that remember messages across deliveries. */
const keyOf = (name: string, message: Message): string =>
  `${name}\u0000${message.payload.toString('latin1')}`;

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

// ---------------------------------------------------------------------------------------------------------------
// Metadata.

const connectedReceivers = new Map<string, number>();

/** Keeps metadata only for messages that go straight to a live receiver: what waits in a backlog loses it. */
export const backlogLosesMetadata = brokenBackend('backlog-loses-metadata', (queue, options) => {
  if (options.broadcast) return queue;
  if (options.isRecv) {
    let counted = false;
    queue.on('status', (status) => {
      if ((status === 'connected') === counted) return;
      counted = !counted;
      connectedReceivers.set(options.name, (connectedReceivers.get(options.name) ?? 0) + (counted ? 1 : -1));
    });
    return queue;
  }
  return override(queue, {
    sendMsg: (payload, sendOptions) =>
      (connectedReceivers.get(options.name) ?? 0) > 0
        ? queue.sendMsg(payload, sendOptions)
        : queue.sendMsg(payload),
  });
});

/** Stamps each message when it is delivered, not when it was sent. */
export const stampsOnDelivery = changedOnReceive('stamps-on-delivery', () => ({ timestamp: Date.now() }));

/** Stamps a message anew each time it is delivered again (a nack, a retry). */
export const restampsRedeliveries = changedOnReceive('restamps-redeliveries', (message) =>
  message.redelivered ? { timestamp: Date.now() } : undefined,
);

const decodedHeaders = new Map<string, Record<string, string>>();

/** Decodes a message's headers once and hands that same object to every receiver and every redelivery. */
export const sharedHeaders = changedOnReceive('shared-headers', (message, options) => {
  if (Object.keys(message.headers).length === 0) return undefined;
  const key = keyOf(options.name, message);
  let headers = decodedHeaders.get(key);
  if (!headers) {
    headers = { ...message.headers };
    decodedHeaders.set(key, headers);
  }
  return { headers };
});

const nackedByReceivers = new Set<string>();

/** A receiver wrapper that records its nacks, for variants that tell a nack from a receiver going away. */
function recordingNacks(
  name: string,
  change: (message: Message, nacked: boolean) => Partial<Message> | undefined,
): Backend {
  return brokenBackend(name, (queue, options) => {
    if (!options.isRecv) return queue;
    return wrapHandler(queue, (handler) => (q, message) => {
      const key = keyOf(options.name, message);
      const fields = change(message, nackedByReceivers.has(key)) ?? {};
      return handler(q, {
        ...changed(message, fields),
        nack: () => {
          nackedByReceivers.add(key);
          return message.nack();
        },
      });
    });
  });
}

/** Says `redelivered` only for a message a receiver nacked, not for one its receiver went away holding. */
export const redeliveredOnlyAfterNack = recordingNacks('redelivered-only-after-nack', (_message, nacked) => ({
  redelivered: nacked,
}));

/** A message handed back by a receiver going away (not by a nack) comes again with its body only. */
export const handBackLosesMetadata = recordingNacks('hand-back-loses-metadata', (message, nacked) =>
  message.redelivered && !nacked
    ? {
        headers: {},
        messageId: undefined,
        correlationId: undefined,
        contentType: undefined,
      }
    : undefined,
);

/** Counts deliveries from the redelivered flag alone: 0, then 1 for ever. */
export const deliveryCountFromFlag = changedOnReceive('delivery-count-from-flag', (message) => ({
  deliveryCount: message.redelivered ? 1 : 0,
}));

/** Sends a valid `expirationMillis` through `map` first (an invalid one still goes to the checks, which refuse it). */
function mappedExpiration(name: string, map: (millis: number) => number | undefined): Backend {
  return brokenBackend(name, (queue, options) => {
    if (options.isRecv) return queue;
    return override(queue, {
      sendMsg: (payload, sendOptions) => {
        const millis = sendOptions?.expirationMillis;
        if (typeof millis !== 'number' || !Number.isSafeInteger(millis) || millis < 0)
          return queue.sendMsg(payload, sendOptions);
        const { expirationMillis: _, ...rest } = sendOptions as SendOptions;
        const mapped = map(millis);
        return queue.sendMsg(payload, mapped === undefined ? rest : { ...rest, expirationMillis: mapped });
      },
    });
  });
}

/** Drops `expirationMillis`: messages never expire. */
export const ignoresExpiration = mappedExpiration('ignores-expiration', () => undefined);

/** Reads `expirationMillis` as seconds and converts the wrong way: everything expires far too soon. */
export const expirationInSeconds = mappedExpiration('expiration-in-seconds', (millis) =>
  Math.max(1, Math.round(millis / 1000)),
);

// ---------------------------------------------------------------------------------------------------------------
// Failure policy.

/** A dead letter keeps the retry headers of the copy it was made from. */
export const deadLetterKeepsRetryHeaders = changedOnReceive('dead-letter-keeps-retry-headers', (message) => {
  const from = message.headers['mq-dead-letter-deliveries'];
  if (from === undefined) return undefined;
  return { headers: { ...message.headers, 'mq-deliveries': from, 'mq-retry-at': String(Date.now()) } };
});

/** Retries a broadcast receiver's failed message by publishing it to the exchange again: every receiver gets it. */
export const broadcastRetryToAll = brokenWithConnection('broadcast-retry-to-all', (options, connection) => {
  const queue = memoryBackend.createQueue(options, connection);
  if (!options.isRecv || !options.broadcast) return queue;
  const exchange = lazySender(() => connection, { name: options.name, broadcast: true });
  return wrapHandler(queue, (handler) => async (q, message) => {
    try {
      await handler(q, message);
    } catch {
      await (await exchange()).sendMsg(message.payload);
      await message.ack();
    }
  });
});

const failedBy = new Map<string, symbol>();

/**
 * Addresses each retried copy to the receiver the message failed on (a retry queue per consumer), while declaring
 * that retries go behind the others in the shared queue: another receiver that gets such a copy hands it back.
 */
export const retriesOnlyToTheirReceiver = brokenBackend(
  'retries-only-to-their-receiver',
  (queue, options) => {
    if (!options.isRecv || options.broadcast) return queue;
    const self = Symbol(options.name);
    return wrapHandler(queue, (handler) => async (q, message) => {
      const key = keyOf(options.name, message);
      const owner = failedBy.get(key);
      if (message.headers['mq-retry-at'] !== undefined && owner !== undefined && owner !== self) {
        // Not for this receiver: back it goes (after a moment, so that two receivers do not spin).
        await new Promise((resolve) => setTimeout(resolve, 20));
        return message.nack();
      }
      try {
        return await handler(q, message);
      } catch (error) {
        failedBy.set(key, self);
        throw error;
      }
    });
  },
);

/**
 * Holds a retried copy until the time it was stamped with, whichever receiver gets it (not bounded by that
 * receiver's own retryDelayMillis): a retry whose receiver closed comes only once its delay is over.
 */
export const holdsRetryUntilStamped = brokenBackend('holds-retry-until-stamped', (queue, options) => {
  if (!options.isRecv) return queue;
  const timers = new Set<NodeJS.Timeout>();
  queue.on('status', (status) => {
    // Closing: the copies held are left unacked, and so handed back.
    if (status === 'closing') for (const timer of timers) clearTimeout(timer);
  });
  return wrapHandler(queue, (handler) => (q, message) => {
    const wait = Number(message.headers['mq-retry-at']) - Date.now();
    if (!(wait > 0)) return handler(q, message);
    const timer = setTimeout(() => {
      timers.delete(timer);
      void Promise.resolve(handler(q, message)).catch(() => {});
    }, wait);
    timers.add(timer);
    return undefined;
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Prefetch and order.

const connectionWindows = new WeakMap<
  Connection,
  { limit: number; out: number; waiting: Array<() => void> }
>();

/** Bounds the unacked messages of a whole connection by its first receiver's prefetch (AMQP's `global` qos). */
export const prefetchPerConnection = brokenWithConnection(
  'prefetch-per-connection',
  (options, connection) => {
    const queue = memoryBackend.createQueue(options, connection);
    if (!options.isRecv) return queue;
    const window = connectionWindows.get(connection) ?? {
      limit: typeof options.prefetch === 'number' ? options.prefetch : 100,
      out: 0,
      waiting: [],
    };
    connectionWindows.set(connection, window);
    // What the receiver holds goes when its link does (the broker hands it out again): its places come free.
    const holding = new Set<() => Promise<void>>();
    queue.on('status', (status) => {
      if (status !== 'disconnected' && status !== 'closed') return;
      for (const free of [...holding]) void free();
    });
    return wrapHandler(queue, (handler) => (q, message) => {
      const run = (): Promise<void> => {
        window.out += 1;
        let settled = false;
        const release = (settle: () => Promise<void>) => (): Promise<void> => {
          if (!settled) {
            settled = true;
            holding.delete(freed);
            window.out -= 1;
            window.waiting.shift()?.();
          }
          return settle();
        };
        const freed = release(() => Promise.resolve());
        holding.add(freed);
        // A handler that fails leaves its message to the failure policy: it no longer holds a place here.
        try {
          return Promise.resolve(
            handler(
              q,
              replaced(
                message,
                release(() => message.ack()),
                release(() => message.nack()),
              ),
            ),
          ).catch((error: unknown) => {
            void freed();
            throw error;
          });
        } catch (error) {
          void freed();
          throw error;
        }
      };
      if (window.out < window.limit) return run();
      window.waiting.push(() => void Promise.resolve(run()).catch(() => {}));
      return undefined;
    });
  },
);

/** A receiver given no prefetch takes everything (no default bound). */
export const unboundedDefaultPrefetch = brokenOptions('unbounded-default-prefetch', (options) =>
  // Options that are not an object go through as they are, to be refused.
  typeof options === 'object' && options?.isRecv === true && options.prefetch === undefined
    ? { ...options, prefetch: 65535 }
    : options,
);

/** Messages a unicast queue holds beyond this many spill over (or are dropped), in the variants below. */
const QUEUE_BOUND = 1000;

/**
 * Beyond 1,000 messages waiting, sends spill to an overflow that is read back newest first as the queue drains
 * (pages stored as a stack): nothing is lost, but a deep backlog comes out of order.
 */
export const deepQueueOverflowLifo = brokenWithConnection(
  'deep-queue-overflow-lifo',
  (options, connection) => {
    const queue = memoryBackend.createQueue(options, connection);
    if (options.isRecv || options.broadcast) return queue;
    const broker = (connection as MemoryConnection).broker;
    const overflow: Array<{ payload: Buffer; options: SendOptions | undefined }> = [];
    let side: Connection | undefined;
    const send = lazySender(() => {
      side ??= sideConnection(connection);
      return side;
    }, options);
    let timer: NodeJS.Timeout | undefined;
    const flush = async (): Promise<void> => {
      while (overflow.length > 0 && broker.depth(options.name) < QUEUE_BOUND) {
        const { payload, options: sendOptions } = overflow.pop()!;
        await (await send()).sendMsg(payload, sendOptions).catch(() => {});
      }
      if (overflow.length === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
        const done = side;
        side = undefined;
        void done?.close();
      }
    };
    let flushing = false;
    return override(queue, {
      sendMsg: (payload, sendOptions) => {
        if (overflow.length === 0 && broker.depth(options.name) < QUEUE_BOUND)
          return queue.sendMsg(payload, sendOptions);
        if (queue.status !== 'connected' || !(payload instanceof Uint8Array))
          return queue.sendMsg(payload, sendOptions);
        overflow.push({ payload: Buffer.from(payload), options: sendOptions });
        timer ??= setInterval(() => {
          if (flushing) return;
          flushing = true;
          void flush().finally(() => {
            flushing = false;
          });
        }, 5);
        return Promise.resolve();
      },
    });
  },
);

/** Keeps at most 1,000 messages waiting in a queue and silently drops the rest (Mosquitto's max_queued_messages). */
export const capsBacklogAtThousand = brokenWithConnection(
  'caps-backlog-at-thousand',
  (options, connection) => {
    const queue = memoryBackend.createQueue(options, connection);
    if (options.isRecv || options.broadcast) return queue;
    const broker = (connection as MemoryConnection).broker;
    return override(queue, {
      sendMsg: (payload, sendOptions) =>
        queue.status === 'connected' && broker.depth(options.name) >= QUEUE_BOUND
          ? Promise.resolve()
          : queue.sendMsg(payload, sendOptions),
    });
  },
);

/**
 * Messages handed back together (nacked, or left by a receiver that went away) come again in reverse order, each
 * put back at the front in turn. The failure policy's retried copies are new messages, not handed back.
 */
export const redeliveredReversed = brokenBackend('redelivered-reversed', (queue, options) => {
  if (!options.isRecv) return queue;
  return wrapHandler(queue, (handler) => {
    let batch: Array<() => void> | undefined;
    return (q, message) => {
      if (!message.redelivered || message.headers['mq-deliveries'] !== undefined) return handler(q, message);
      if (!batch) {
        const turn: Array<() => void> = [];
        batch = turn;
        setImmediate(() => {
          batch = undefined;
          for (const run of turn.reverse()) run();
        });
      }
      const current = batch;
      // The handler's outcome is still the queue's to see, only later.
      return new Promise<void>((resolve, reject) => {
        current.push(() => {
          Promise.resolve(handler(q, message)).then(resolve, reject);
        });
      });
    };
  });
});

/** Two receivers of one name opened at the same moment on one connection end up on one consumer: the first's handler. */
export const concurrentOpenSharesConsumer = (() => {
  const opening = new WeakMap<
    Connection,
    Map<string, { queue: Queue; handler: () => MessageHandler | undefined }>
  >();
  return brokenWithConnection('concurrent-open-shares-consumer', (options, connection) => {
    const queue = memoryBackend.createQueue(options, connection);
    if (!options.isRecv || options.broadcast) return queue;
    let own: MessageHandler | undefined;
    let delegate: (() => MessageHandler | undefined) | undefined;
    const byName = opening.get(connection) ?? new Map();
    opening.set(connection, byName);
    return override(queue, {
      setMsgHandler: (handler: MessageHandler) => {
        own = handler;
        queue.setMsgHandler(
          typeof handler === 'function' ? (q, message) => (delegate?.() ?? handler)(q, message) : handler,
        );
      },
      connect: () => {
        const other = byName.get(options.name);
        if (other && other.queue.status === 'connecting') delegate = other.handler;
        else byName.set(options.name, { queue, handler: () => own });
        queue.connect();
      },
    });
  });
})();

// ---------------------------------------------------------------------------------------------------------------
// Reliability and faults.

/** Confirms payloads of 64 KiB and more at once and stores them a little later (if the sender is still open). */
export const confirmsLargeEarly = brokenBackend('confirms-large-early', (queue, options) => {
  if (options.isRecv || !options.reliable) return queue;
  return override(queue, {
    sendMsg: (payload, sendOptions) => {
      if (!(payload instanceof Uint8Array) || payload.byteLength < 64 * 1024)
        return queue.sendMsg(payload, sendOptions);
      const copy = Buffer.from(payload);
      setTimeout(() => void queue.sendMsg(copy, sendOptions).catch(() => {}), 5);
      return Promise.resolve();
    },
  });
});

const lostAtRestart = new Set<string>();

/** A broker restart forgets the messages delivered and not yet acked (only what waited survives it). */
export const restartLosesHeld = brokenWithConnection('restart-loses-held', (options, connection) => {
  const queue = memoryBackend.createQueue(options, connection);
  if (!options.isRecv || options.broadcast) return queue;
  const broker = (connection as MemoryConnection).broker;
  const held = new Set<string>();
  queue.on('status', (status) => {
    if (status !== 'disconnected' || broker.running) return;
    for (const key of held) lostAtRestart.add(key);
    held.clear();
  });
  return wrapHandler(queue, (handler) => (q, message) => {
    const key = keyOf(options.name, message);
    if (lostAtRestart.delete(key)) return message.ack();
    held.add(key);
    const settle = (call: () => Promise<void>) => (): Promise<void> => {
      held.delete(key);
      return call();
    };
    return handler(
      q,
      replaced(
        message,
        settle(() => message.ack()),
        settle(() => message.nack()),
      ),
    );
  });
});

/** After its link comes back, a sender publishes again the last 20 messages it had confirmed (a replay buffer never trimmed). */
export const republishesConfirmedAfterReconnect = brokenBackend(
  'republishes-confirmed-after-reconnect',
  (queue, options) => {
    if (options.isRecv) return queue;
    const recent: Array<{ payload: Buffer; options: SendOptions | undefined }> = [];
    let dropped = false;
    queue.on('status', (status) => {
      if (status === 'disconnected') dropped = true;
      if (status !== 'connected' || !dropped) return;
      dropped = false;
      for (const { payload, options: sendOptions } of recent.splice(0)) {
        void queue.sendMsg(payload, sendOptions).catch(() => {});
      }
    });
    return override(queue, {
      sendMsg: (payload, sendOptions) =>
        queue.sendMsg(payload, sendOptions).then(() => {
          if (payload instanceof Uint8Array)
            recent.push({ payload: Buffer.from(payload), options: sendOptions });
          if (recent.length > 20) recent.shift();
        }),
    });
  },
);

/** A queue registers a status listener on its connection when it connects and never removes it. */
export const queueLeavesListener = brokenWithConnection('queue-leaves-listener', (options, connection) => {
  const queue = memoryBackend.createQueue(options, connection);
  return override(queue, {
    connect: () => {
      connection.on('status', () => {});
      queue.connect();
    },
  });
});

/** A failed message's retry timer of its own, which the receiver's close does not clear (the connection's does). */
export const queueLeavesRetryTimer = brokenWithConnection(
  'queue-leaves-retry-timer',
  (options, connection) => {
    const queue = memoryBackend.createQueue(options, connection);
    if (!options.isRecv) return queue;
    const delay = typeof options.retryDelayMillis === 'number' ? options.retryDelayMillis : 1000;
    const timers = new Set<NodeJS.Timeout>();
    connection.on('status', (status) => {
      if (status === 'closed') for (const timer of timers) clearTimeout(timer);
    });
    return wrapHandler(queue, (handler) => async (q, message) => {
      try {
        await handler(q, message);
      } catch (error) {
        const timer = setTimeout(() => timers.delete(timer), delay);
        timers.add(timer);
        throw error;
      }
    });
  },
);
