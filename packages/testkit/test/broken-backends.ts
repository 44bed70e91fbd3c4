import type { Backend, Connection, Message, MessageHandler, Queue, QueueOptions } from '@mq/core';
import { memoryBackend } from '@mq/memory';

type QueueWrapper = (queue: Queue, options: QueueOptions) => Queue;

/** The memory backend with every queue passed through `wrap`: a deliberately broken backend. */
function brokenBackend(name: string, wrap: QueueWrapper): Backend {
  return {
    ...memoryBackend,
    name,
    createQueue: (options, connection: Connection) =>
      wrap(memoryBackend.createQueue(options, connection), options),
  };
}

/** A queue whose methods are those of `queue`, except the ones given. */
function override(queue: Queue, methods: Partial<Pick<Queue, 'sendMsg' | 'setMsgHandler'>>): Queue {
  return new Proxy(queue, {
    get(target, key, receiver) {
      if (key in methods) return methods[key as keyof typeof methods];
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : (value ?? receiver[key]);
    },
  });
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
  return override(queue, {
    setMsgHandler: (handler: MessageHandler) =>
      queue.setMsgHandler(typeof handler === 'function' ? async (_q, message) => message.ack() : handler),
  });
});

/** Resolves reliable sends at once and stores the message a little later, if the queue is still connected. */
export const resolvesBeforeStored = brokenBackend('resolves-before-stored', (queue, options) => {
  if (options.isRecv || !options.reliable) return queue;
  return override(queue, {
    sendMsg: (payload) => {
      const copy = Buffer.from(payload);
      setTimeout(() => {
        queue.sendMsg(copy).catch(() => {});
      }, 5);
      return Promise.resolve();
    },
  });
});

/** Treats nack as ack: the message is never redelivered. */
export const ignoresNack = brokenBackend('ignores-nack', (queue, options) => {
  if (!options.isRecv) return queue;
  return override(queue, {
    setMsgHandler: (handler: MessageHandler) =>
      queue.setMsgHandler(
        typeof handler === 'function'
          ? (q, message) => {
              const deaf: Message = {
                payload: message.payload,
                ack: () => message.ack(),
                nack: () => message.ack(),
              };
              return handler(q, deaf);
            }
          : handler,
      ),
  });
});
