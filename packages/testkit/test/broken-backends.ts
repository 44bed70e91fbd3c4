import {
  type Backend,
  BaseQueue,
  type Connection,
  type Message,
  type MessageHandler,
  MqError,
  type Queue,
  type QueueDriver,
  type QueueOptions,
  type QueueSetup,
} from '@mq/core/spi';
import { type MemoryQueueOptions, memoryBackend, memoryQueueSetup } from '@mq/memory';

/** Turns a healthy queue into a broken one. */
export type QueueWrapper = (queue: Queue, options: QueueOptions<unknown>) => Queue;

/** A driver's `republish`. */
type Republish = NonNullable<QueueDriver['republish']>;

/** The memory backend with every queue passed through `wrap`: a deliberately broken backend. */
export function brokenBackend(name: string, wrap: QueueWrapper): Backend {
  return {
    ...memoryBackend,
    name,
    createQueue: (options, connection: Connection) =>
      wrap(memoryBackend.createQueue(options, connection), options),
  };
}

/** The memory backend with every connection passed through `wrap`: a deliberately broken backend. */
function brokenConnections(name: string, wrap: (connection: Connection) => Connection): Backend {
  return {
    ...memoryBackend,
    name,
    createConnection: (options) => wrap(memoryBackend.createConnection(options)),
  };
}

/** The memory backend with every queue's options passed through `map` first: a deliberately broken backend. */
export function brokenOptions(
  name: string,
  map: (
    options: QueueOptions<unknown> & Record<string, unknown>,
  ) => QueueOptions<unknown> & Record<string, unknown>,
): Backend {
  return {
    ...memoryBackend,
    name,
    createQueue: (options, connection: Connection) => memoryBackend.createQueue(map(options), connection),
  };
}

/** `target` (a queue or a connection) with the given methods in place of its own; the rest bound to it. */
export function override<T extends object>(target: T, methods: Partial<T>): T {
  return new Proxy(target, {
    get(object, key) {
      if (key in methods) return methods[key as keyof T];
      const value = Reflect.get(object, key, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

/** A queue whose handler is passed through `wrap` when set (a handler that is not a function goes through as is). */
export function wrapHandler(queue: Queue, wrap: (handler: MessageHandler) => MessageHandler): Queue {
  return override(queue, {
    setMsgHandler: (handler: MessageHandler) =>
      queue.setMsgHandler(typeof handler === 'function' ? wrap(handler) : handler),
  });
}

/** A message whose ack and nack run `ack` and `nack` instead, with the payload of `message`. */
export function replaced(message: Message, ack: () => Promise<void>, nack: () => Promise<void>): Message {
  return {
    payload: message.payload,
    body: message.body,
    headers: message.headers,
    messageId: message.messageId,
    correlationId: message.correlationId,
    contentType: message.contentType,
    timestamp: message.timestamp,
    replyTo: message.replyTo,
    redelivered: message.redelivered,
    deliveryCount: message.deliveryCount,
    topic: message.topic,
    reply: (payload, options) => message.reply(payload, options),
    ack,
    nack,
  };
}

/** Drops every 10th message a sender sends, resolving the send as if it went out. */
export const dropsEveryTenth = brokenBackend('drops-every-10th', (queue, options) => {
  if (options.isRecv) return queue;
  let count = 0;
  return override(queue, {
    sendMsg: (payload) => {
      count += 1;
      return count % 10 === 0 ? Promise.resolve() : queue.sendMsg(payload);
    },
  });
});

const broadcastReceivers = new Map<string, number>();

/** Delivers a broadcast to the first receiver of each name only; the others ack and drop. */
export const broadcastToOne = brokenBackend('broadcast-to-one', (queue, options) => {
  if (!options.isRecv || !options.broadcast) return queue;
  const index = broadcastReceivers.get(options.name) ?? 0;
  broadcastReceivers.set(options.name, index + 1);
  if (index === 0) return queue;
  return wrapHandler(queue, () => async (_q, message) => message.ack());
});

/** Resolves reliable sends at once and stores the message a little later, if the queue is still connected. */
export const resolvesBeforeStored = brokenBackend('resolves-before-stored', (queue, options) => {
  if (options.isRecv || !options.reliable) return queue;
  return override(queue, {
    sendMsg: (payload) => {
      // A typed queue's body (the codec cases) goes through as it is: this defect is about bytes.
      if (!(payload instanceof Uint8Array)) return queue.sendMsg(payload);
      const copy = Buffer.from(payload);
      // Dropped when the link is down by then (the queue itself would hold the send until it is back).
      setTimeout(() => {
        if (queue.status === 'connected') queue.sendMsg(copy).catch(() => {});
      }, 5);
      return Promise.resolve();
    },
  });
});

/** Acks each message as it is delivered (auto-ack), whatever the handler does: what a dying receiver held is gone. */
export const acksOnDelivery = brokenBackend('acks-on-delivery', (queue, options) => {
  if (!options.isRecv) return queue;
  return wrapHandler(queue, (handler) => async (q, message) => {
    await message.ack();
    const done = async (): Promise<void> => {};
    return handler(q, replaced(message, done, done));
  });
});

/** Treats nack as ack: the message is never redelivered. */
export const ignoresNack = brokenBackend('ignores-nack', (queue, options) => {
  if (!options.isRecv) return queue;
  return wrapHandler(
    queue,
    (handler) => (q, message) =>
      handler(
        q,
        replaced(
          message,
          () => message.ack(),
          () => message.ack(),
        ),
      ),
  );
});

/**
 * The P0 of issue 12 as a backend shows it: the first 5 messages delivered after each (re)connect reach the
 * handler before the backend can take their acks, which reject with ACK_FAILED and settle nothing, so they
 * stay unacked for as long as the link lives.
 */
export const acksFailUntilReady = brokenBackend('acks-fail-until-ready', (queue, options) => {
  if (!options.isRecv) return queue;
  let sinceOpen = 0;
  queue.on('status', (status) => {
    if (status === 'connecting') sinceOpen = 0;
  });
  const refuse = (): Promise<void> =>
    Promise.reject(new MqError('ACK_FAILED', '[broken] the channel it came on has closed'));
  return wrapHandler(queue, (handler) => (q, message) => {
    sinceOpen += 1;
    return handler(q, sinceOpen <= 5 ? replaced(message, refuse, refuse) : message);
  });
});

/** Settles only acks and nacks made while the handler runs; later ones resolve and do nothing. */
export const lateAcksIgnored = brokenBackend('late-acks-ignored', (queue, options) => {
  if (!options.isRecv) return queue;
  return wrapHandler(queue, (handler) => (q, message) => {
    let running = true;
    const late = (settle: () => Promise<void>) => (): Promise<void> =>
      running ? settle() : Promise.resolve();
    const result = handler(
      q,
      replaced(
        message,
        late(() => message.ack()),
        late(() => message.nack()),
      ),
    );
    running = false;
    return result;
  });
});

const opening = new Map<string, number>();

/**
 * A receiver that starts while another receiver of the same name is still opening also gets a second copy of
 * each message (a dispatch race between consumers that attach together); the copy's ack does nothing.
 */
export const duplicatesWhenStartedTogether = brokenBackend(
  'duplicates-when-started-together',
  (queue, options) => {
    if (!options.isRecv || options.broadcast) return queue;
    let duplicating = false;
    let handler: MessageHandler | undefined;
    const done = (): Promise<void> => Promise.resolve();
    return override(queue, {
      setMsgHandler: (given: MessageHandler) => {
        handler = given;
        queue.setMsgHandler(
          typeof given === 'function'
            ? (q, message) => {
                if (duplicating)
                  void Promise.resolve(handler?.(q, replaced(message, done, done))).catch(() => {});
                return given(q, message);
              }
            : given,
        );
      },
      connect: () => {
        const others = opening.get(options.name) ?? 0;
        if (others > 0) duplicating = true;
        opening.set(options.name, others + 1);
        const opened = (status: string): void => {
          if (status === 'connecting') return;
          queue.off('status', opened);
          opening.set(options.name, (opening.get(options.name) ?? 1) - 1);
        };
        queue.on('status', opened);
        queue.connect();
      },
    });
  },
);

/** Ignores `prefetch` on a sender instead of refusing it. */
export const prefetchOnSenderIgnored = brokenOptions('prefetch-on-sender-ignored', (options) => {
  if (options.isRecv) return options;
  const { prefetch: _ignored, ...rest } = options;
  return rest as QueueOptions & Record<string, unknown>;
});

/** Holds one message more than `prefetch` (an off-by-one in the window). */
export const prefetchOffByOne = brokenOptions('prefetch-off-by-one', (options) =>
  options.isRecv && typeof options.prefetch === 'number'
    ? { ...options, prefetch: options.prefetch + 1 }
    : options,
);

/** Caps `prefetch` at 10 (a client default that wins over the option). */
export const prefetchCappedAtTen = brokenOptions('prefetch-capped-at-ten', (options) =>
  options.isRecv && typeof options.prefetch === 'number'
    ? { ...options, prefetch: Math.min(options.prefetch, 10) }
    : options,
);

/** Requires `prefetch` on receivers (as `@mq/amqp` once did), so code tested on another backend throws here. */
export const prefetchRequired = brokenOptions('prefetch-required', (options) => {
  if (options.isRecv && options.prefetch === undefined)
    throw new MqError('INVALID_OPTIONS', '[broken] prefetch is required for a receiver');
  return options;
});

/** Accepts `setMsgHandler()` on a sender and does nothing with it. */
export const handlerOnSenderIgnored = brokenBackend('handler-on-sender-ignored', (queue, options) => {
  if (options.isRecv) return queue;
  return override(queue, { setMsgHandler: () => {} });
});

/** The marker `vitest.config.ts` lets through: these rejections are what the contract must catch. */
export const DELIBERATE_ESCAPE = '[broken backend: deliberately unhandled]';

/** Every send also leaves a rejected promise nobody handles (a missing `.catch` on an internal promise). */
export const escapesRejection = brokenBackend('escapes-rejection', (queue, options) => {
  if (options.isRecv) return queue;
  return override(queue, {
    sendMsg: (payload) => {
      void Promise.reject(new Error(`${DELIBERATE_ESCAPE} an internal promise of sendMsg`));
      return queue.sendMsg(payload);
    },
  });
});

/** Leaves a 3-second timer running after `close()` (a reconnect timer it forgot to clear). */
export const leavesTimerOnClose = brokenConnections('leaves-timer-on-close', (connection) => {
  const proxy: Connection = override(connection, {
    close: async () => {
      await connection.close();
      setTimeout(() => {}, 3_000);
    },
  });
  return proxy;
});

/** Emits `status` once more, 50 ms after it reported `closed` (a late event from a dying link). */
export const statusAfterClosed = brokenConnections('status-after-closed', (connection) => {
  const listeners: Array<(status: 'closed') => void> = [];
  const proxy: Connection = override(connection, {
    on: ((event: 'status' | 'error', listener: (value: never) => void) => {
      connection.on(event, listener as never);
      if (event === 'status') listeners.push(listener as (status: 'closed') => void);
      return proxy;
    }) as Connection['on'],
    close: async () => {
      await connection.close();
      setTimeout(() => {
        for (const listener of listeners) listener('closed');
      }, 50);
    },
  });
  return proxy;
});

/** A nacked message comes again in the very buffer its first delivery had (as a client that redelivers its own copy would). */
export const redeliversSameBuffer = brokenBackend('redelivers-same-buffer', (queue, options) => {
  if (!options.isRecv) return queue;
  const nacked: Buffer[] = [];
  return wrapHandler(queue, (handler) => (q, message) => {
    // The memory broker requeues a nacked message at the head: the next delivery is its redelivery.
    const payload = nacked.shift() ?? message.payload;
    return handler(q, {
      ...replaced(
        message,
        () => message.ack(),
        () => message.nack(),
      ),
      payload,
      ack: () => message.ack(),
      nack: () => {
        nacked.push(payload);
        return message.nack();
      },
    });
  });
});

/** Sends only the first MiB of a larger payload, and resolves as if it sent it all. */
export const truncatesLargePayloads = brokenBackend('truncates-large-payloads', (queue, options) => {
  if (options.isRecv) return queue;
  return override(queue, {
    sendMsg: (payload) =>
      queue.sendMsg(payload instanceof Uint8Array ? payload.subarray(0, 1024 * 1024) : payload),
  });
});

/** Folds names as some brokers' naming rules would: `_` becomes `-`, and names are cut to 254 characters. */
export const foldsNames = brokenOptions('folds-names', (options) => ({
  ...options,
  name: typeof options.name === 'string' ? options.name.replace(/_/g, '-').slice(0, 254) : options.name,
}));

/** An ack also acks every earlier unacked message of the receiver (AMQP's `multiple: true` by mistake). */
export const acksMultiple = brokenBackend('acks-multiple', (queue, options) => {
  if (!options.isRecv) return queue;
  const unacked: Message[] = [];
  return wrapHandler(queue, (handler) => (q, message) => {
    unacked.push(message);
    const settleUpTo = (): Promise<void> => {
      const upTo = unacked.indexOf(message);
      const earlier = unacked.splice(0, upTo + 1);
      return Promise.all(earlier.map((m) => m.ack())).then(() => {});
    };
    return handler(
      q,
      replaced(message, settleUpTo, () => {
        unacked.splice(unacked.indexOf(message), 1);
        return message.nack();
      }),
    );
  });
});

/** Holds every send made while the link is down, without bound (each still settles by its deadline). */
export const holdsEverySend = brokenOptions('holds-every-send', (options) => ({
  ...options,
  sendBufferMessages: 1_000_000,
  sendBufferBytes: 2_147_483_647,
}));

/** A receiver whose `close()` waits for every handler it started to return, however long that takes. */
export const closeWaitsForever = brokenBackend('close-waits-forever', (queue, options) => {
  if (!options.isRecv) return queue;
  const running = new Set<Promise<void>>();
  const tracked = wrapHandler(queue, (handler) => (q, message) => {
    const run = Promise.resolve(handler(q, message));
    running.add(run);
    void run.finally(() => running.delete(run)).catch(() => {});
    return run;
  });
  return override(tracked, {
    close: async () => {
      await Promise.allSettled([...running]);
      await queue.close();
    },
  });
});

/**
 * Rejects every send made while the queue is not connected with `NOT_CONNECTED` (mq before sends waited for the
 * link): a send right after `connect()` or during a short drop fails.
 */
export const rejectsWhileDown = brokenBackend('rejects-while-down', (queue, options) => {
  if (options.isRecv) return queue;
  return override(queue, {
    sendMsg: (payload, sendOptions) =>
      queue.status === 'connected'
        ? queue.sendMsg(payload, sendOptions)
        : Promise.reject(new MqError('NOT_CONNECTED', `[broken] queue is ${queue.status}`)),
  });
});

/** Holds sends made while disconnected, with no deadline, and sends them once connected again. */
export const buffersWhileDisconnected = brokenBackend('buffers-while-disconnected', (queue, options) => {
  if (options.isRecv) return queue;
  return override(queue, {
    sendMsg: async (payload) => {
      if (queue.status === 'disconnected') {
        await new Promise<void>((resolve) => {
          const onStatus = (status: string): void => {
            if (status !== 'connected') return;
            queue.off('status', onStatus);
            resolve();
          };
          queue.on('status', onStatus);
        });
      }
      return queue.sendMsg(payload);
    },
  });
});

/** Rethrows a failing handler's error into the process when nobody listens for `error` (as Node's EventEmitter does). */
export const throwsWithoutErrorListener = brokenBackend('throws-without-error-listener', (queue, options) => {
  if (!options.isRecv) return queue;
  let errorListeners = 0;
  const withHandler = wrapHandler(queue, (handler) => (q, message) => {
    const crash = (error: unknown): never => {
      if (errorListeners === 0) {
        setImmediate(() => {
          throw new Error(`${DELIBERATE_ESCAPE} unhandled 'error' event: ${String(error)}`);
        });
      }
      throw error;
    };
    try {
      return Promise.resolve(handler(q, message)).catch(crash);
    } catch (error) {
      return crash(error);
    }
  });
  return override(withHandler, {
    on: ((event: 'status' | 'error', listener: (value: never) => void) => {
      if (event === 'error') errorListeners += 1;
      queue.on(event, listener as never);
      return withHandler;
    }) as Queue['on'],
  });
});

/** Waits a quarter of `reconnectMillis` between attempts (a unit read wrong). */
export const retriesTooSoon: Backend = {
  ...memoryBackend,
  name: 'retries-too-soon',
  createConnection: (options) =>
    memoryBackend.createConnection({
      ...options,
      reconnectMillis: Math.max(1, Math.floor(((options.reconnectMillis as number | undefined) ?? 1000) / 4)),
    }),
};

/** Retries at a fixed interval: `reconnectMaxMillis` read as `reconnectMillis`. */
export const neverBacksOff: Backend = {
  ...memoryBackend,
  name: 'never-backs-off',
  createConnection: (options) =>
    memoryBackend.createConnection({ ...options, reconnectMaxMillis: options.reconnectMillis ?? 1000 }),
};

/** Backs off without a ceiling: `reconnectMaxMillis` ignored. */
export const backsOffWithoutCap: Backend = {
  ...memoryBackend,
  name: 'backs-off-without-cap',
  createConnection: (options) =>
    memoryBackend.createConnection({ ...options, reconnectMaxMillis: 2_147_483_647 }),
};

/** Gives up after the first failed attempt instead of retrying until closed. */
export const stopsRetrying = brokenConnections('stops-retrying', (connection) => {
  connection.on('status', (status) => {
    if (status === 'disconnected') void connection.close();
  });
  return connection;
});

/** Best-effort sends resolve at once and go out in a batch 20 ms later; a batch still waiting at close is lost. */
export const bestEffortLostOnClose = brokenBackend('best-effort-lost-on-close', (queue, options) => {
  if (options.isRecv || options.reliable) return queue;
  let batch: Uint8Array[] | undefined;
  return override(queue, {
    sendMsg: (payload) => {
      if (queue.status !== 'connected' || !(payload instanceof Uint8Array)) return queue.sendMsg(payload);
      if (!batch) {
        const pending: Uint8Array[] = [];
        batch = pending;
        setTimeout(() => {
          batch = undefined;
          if (queue.status !== 'connected') return;
          for (const item of pending) void queue.sendMsg(item).catch(() => {});
        }, 20);
      }
      batch.push(Buffer.from(payload));
      return Promise.resolve();
    },
  });
});

/**
 * Receivers are keyed by connection and name (as MQTT subscriptions are by topic): the last receiver of a name
 * on a connection gets what every receiver of that name there is given, while it declares that they can share.
 */
export const lastReceiverPerConnectionWins: Backend = (() => {
  const latest = new WeakMap<Connection, Map<string, MessageHandler>>();
  return {
    ...memoryBackend,
    name: 'last-receiver-per-connection-wins',
    createQueue: (options, connection: Connection) => {
      const queue = memoryBackend.createQueue(options, connection);
      if (!options.isRecv) return queue;
      const byName = latest.get(connection) ?? new Map<string, MessageHandler>();
      latest.set(connection, byName);
      return wrapHandler(queue, (handler) => {
        byName.set(options.name, handler);
        return (q, message) => (byName.get(options.name) ?? handler)(q, message);
      });
    },
  };
})();

/** Declares broadcast false, yet serves broadcast queues instead of refusing them. */
export const servesUndeclaredBroadcast: Backend = {
  ...memoryBackend,
  name: 'serves-undeclared-broadcast',
  capabilities: { ...memoryBackend.capabilities, broadcast: false },
};

/**
 * Declares broadcast, delivery counts and dead letters false and refuses them in `createQueue` (as `defineBackend`
 * once did for every backend), but its queue class, made with `new` as apps do, takes them and ignores them.
 */
export const refusesOnlyInCreateQueue: Backend = {
  ...memoryBackend,
  name: 'refuses-only-in-create-queue',
  capabilities: {
    ...memoryBackend.capabilities,
    broadcast: false,
    countsDeliveries: false,
    deadLetter: false,
  },
  createQueue: (options, connection) => {
    const refused =
      options.broadcast === true ||
      (options.isRecv && (options.maxDeliveries !== undefined || options.deadLetter !== undefined));
    if (refused) throw new MqError('UNSUPPORTED', '[broken] refused by createQueue, and only there');
    return memoryBackend.createQueue(options, connection);
  },
};

/** Declares that receivers cannot share a connection, yet accepts a second one there instead of refusing it. */
export const acceptsUndeclaredSharing: Backend = {
  ...memoryBackend,
  name: 'accepts-undeclared-sharing',
  capabilities: { ...memoryBackend.capabilities, sameConnectionReceivers: false },
};

/** A best-effort receiver's ack resolves and does nothing: the prefetch window never opens again. */
export const bestEffortAckDoesNothing = brokenBackend('best-effort-ack-does-nothing', (queue, options) => {
  if (!options.isRecv || options.reliable) return queue;
  const nothing = (): Promise<void> => Promise.resolve();
  return wrapHandler(queue, (handler) => (q, message) => handler(q, replaced(message, nothing, nothing)));
});

/** A broadcast receiver that came back after a lost link has subscribed twice: each later message comes twice. */
export const broadcastTwiceAfterDrop = brokenBackend('broadcast-twice-after-drop', (queue, options) => {
  if (!options.isRecv || !options.broadcast) return queue;
  let dropped = false;
  queue.on('status', (status) => {
    if (status === 'disconnected') dropped = true;
  });
  const nothing = (): Promise<void> => Promise.resolve();
  return wrapHandler(queue, (handler) => async (q, message) => {
    await handler(q, message);
    if (dropped) await handler(q, replaced(message, nothing, nothing));
  });
});

/** A broadcast receiver that came back after a lost link never subscribed again: it gets nothing more. */
export const broadcastDeafAfterDrop = brokenBackend('broadcast-deaf-after-drop', (queue, options) => {
  if (!options.isRecv || !options.broadcast) return queue;
  let dropped = false;
  queue.on('status', (status) => {
    if (status === 'disconnected') dropped = true;
  });
  return wrapHandler(queue, (handler) => (q, message) => (dropped ? message.ack() : handler(q, message)));
});

/** Acks resolve at once and reach the broker in a batch a second later: a link lost meanwhile undoes them. */
export const acksBatchedLate = brokenBackend('acks-batched-late', (queue, options) => {
  if (!options.isRecv) return queue;
  return wrapHandler(
    queue,
    (handler) => (q, message) =>
      handler(
        q,
        replaced(
          message,
          () => {
            setTimeout(() => void message.ack().catch(() => {}), 1000);
            return Promise.resolve();
          },
          () => message.nack(),
        ),
      ),
  );
});

/** Sends the payload and forgets the send options: every message arrives without its metadata. */
export const dropsMetadata = brokenBackend('drops-metadata', (queue, options) => {
  if (options.isRecv) return queue;
  return override(queue, { sendMsg: (payload) => queue.sendMsg(payload) });
});

/** A redelivered message comes without its metadata (a client that requeues only the body). */
export const redeliveryLosesMetadata = brokenBackend('redelivery-loses-metadata', (queue, options) => {
  if (!options.isRecv) return queue;
  return wrapHandler(
    queue,
    (handler) => (q, message) =>
      handler(
        q,
        message.redelivered
          ? {
              ...replaced(
                message,
                () => message.ack(),
                () => message.nack(),
              ),
              headers: {},
              messageId: undefined,
            }
          : message,
      ),
  );
});

/** Never says a message is redelivered. */
export const neverRedelivered = brokenBackend('never-redelivered', (queue, options) => {
  if (!options.isRecv) return queue;
  return wrapHandler(
    queue,
    (handler) => (q, message) =>
      handler(q, {
        ...replaced(
          message,
          () => message.ack(),
          () => message.nack(),
        ),
        redelivered: false,
      }),
  );
});

/** Header values travel as Latin-1: anything outside it is mangled. */
export const latin1Headers = brokenBackend('latin1-headers', (queue, options) => {
  if (!options.isRecv) return queue;
  return wrapHandler(queue, (handler) => (q, message) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers))
      headers[Buffer.from(name, 'latin1').toString('latin1')] = Buffer.from(value, 'latin1').toString(
        'latin1',
      );
    return handler(q, {
      ...replaced(
        message,
        () => message.ack(),
        () => message.nack(),
      ),
      headers,
    });
  });
});

/** Declares no metadata, yet carries it instead of refusing it. */
export const servesUndeclaredMetadata: Backend = {
  ...memoryBackend,
  name: 'serves-undeclared-metadata',
  capabilities: { ...memoryBackend.capabilities, metadata: false },
};

/**
 * A memory backend whose queues are built on its own driver and traits, with `change` applied: a failure-policy
 * defect at the SPI.
 */
function brokenMemoryQueues(name: string, change: (setup: QueueSetup) => QueueSetup): Backend {
  class BrokenMemoryQueue extends BaseQueue {
    constructor(options: MemoryQueueOptions, connection: Connection) {
      super(change(memoryQueueSetup(options, connection)));
    }
  }
  return {
    ...memoryBackend,
    name,
    createQueue: (options, connection) => new BrokenMemoryQueue(options as MemoryQueueOptions, connection),
  };
}

/** The same setup, its drivers' `republish` going through `republish`, which gets the driver's own first. */
function withRepublish(
  setup: QueueSetup,
  republish: (own: Republish, ...args: Parameters<Republish>) => void,
): QueueSetup {
  return {
    ...setup,
    driver: (core) => {
      const driver = setup.driver(core);
      const own = (driver.republish as Republish).bind(driver);
      driver.republish = (...args) => republish(own, ...args);
      return driver;
    },
  };
}

/** Retries by a plain nack after the delay: at the head of the queue, ahead of everything waiting. */
export const retriesAtHead = brokenMemoryQueues('retries-at-head', (setup) => ({
  ...setup,
  traits: { ...setup.traits, requeuesBehind: false },
}));

/** Confirms a dead letter it never stores. */
export const loseDeadLetters = brokenMemoryQueues('loses-dead-letters', (setup) =>
  withRepublish(setup, (own, to, message, send, copy) => {
    if (to === undefined) own(to, message, send, copy);
    else send.resolve();
  }),
);

/** Every dead letter comes twice, as if stored twice: a receiver hands each message that says it is one to its handler again (that copy's ack does nothing). */
export const duplicatesDeadLetters = brokenBackend('duplicates-dead-letters', (queue, options) => {
  if (!options.isRecv) return queue;
  const nothing = (): Promise<void> => Promise.resolve();
  return wrapHandler(queue, (handler) => async (q, message) => {
    if (message.headers['mq-dead-letter-from'] !== undefined) {
      await handler(q, replaced(message, nothing, nothing));
    }
    return handler(q, message);
  });
});

/** Republishes copies without their headers (a backend that forgets the metadata of what it republishes). */
export const copiesWithoutHeaders = brokenMemoryQueues('copies-without-headers', (setup) =>
  withRepublish(setup, (own, to, message, send, copy) =>
    own(to, message, send, to === undefined ? {} : copy),
  ),
);

/** `messages()` whose `break` leaves the receiver open (so what it held is never handed back). */
export const iterationNeverCloses = brokenBackend('iteration-never-closes', (queue, options) => {
  if (!options.isRecv) return queue;
  return override(queue, {
    messages: (messagesOptions) => {
      const inner = queue.messages(messagesOptions);
      return {
        next: () => inner.next(),
        return: async () => ({ value: undefined, done: true as const }),
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  });
});
