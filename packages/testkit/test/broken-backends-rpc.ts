import {
  type Backend,
  type Message,
  MqError,
  type Reply,
  type RequestOptions,
  waitForStatus,
} from '@mq/core';
import { memoryBackend } from '@mq/memory';
import { brokenBackend, brokenOptions, override, replaced, wrapHandler } from './broken-backends.js';

// Broken memory backends for the request-reply group (issue 28): each has one defect a backend author could
// plausibly ship, built from the public API (wrapped queues and options).

/** A sender whose `request()` is `request` (given the healthy one). */
function brokenRequests(
  name: string,
  request: (
    healthy: (payload: Uint8Array, options?: RequestOptions) => Promise<Reply>,
  ) => (payload: Uint8Array, options?: RequestOptions) => Promise<Reply>,
): Backend {
  return brokenBackend(name, (queue, options) => {
    if (options.isRecv) return queue;
    return override(queue, { request: request((payload, opts) => queue.request(payload, opts)) });
  });
}

/** A receiver whose messages' `reply()` is `reply` (given the message). */
function brokenReplies(name: string, reply: (message: Message) => Message['reply']): Backend {
  return brokenBackend(name, (queue, options) => {
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
          reply: reply(message),
        }),
    );
  });
}

/** A waiting caller of a broken `request()`. */
interface Caller {
  resolve(reply: Reply): void;
  reject(error: unknown): void;
}

/**
 * Matches replies to requests by arrival, not by correlation id: each reply goes to the oldest request waiting,
 * as a backend that keeps one FIFO of callers per reply queue would.
 */
export const repliesInArrivalOrder = brokenRequests('replies-in-arrival-order', (healthy) => {
  const waiting: Caller[] = [];
  return (payload, options) =>
    new Promise<Reply>((resolve, reject) => {
      const caller = { resolve, reject };
      waiting.push(caller);
      healthy(payload, options).then(
        (reply) => waiting.shift()?.resolve(reply),
        (error: unknown) => {
          waiting.splice(waiting.indexOf(caller), 1);
          reject(error);
        },
      );
    });
});

/** Times requests out by its own timer, then hands their late reply to whichever request waits at that moment. */
export const lateReplyToNext = brokenRequests('late-reply-to-next', (healthy) => {
  const waiting: Caller[] = [];
  return (payload, options = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const { timeoutMillis = 30_000, ...rest } = options;
      const caller = { resolve, reject };
      waiting.push(caller);
      const leave = (): void => {
        const at = waiting.indexOf(caller);
        if (at >= 0) waiting.splice(at, 1);
      };
      const timer = setTimeout(() => {
        leave();
        reject(new MqError('TIMEOUT', `[broken] no reply within ${timeoutMillis} ms`));
      }, timeoutMillis);
      healthy(payload, { ...rest, timeoutMillis: 60_000 }).then(
        (reply) => {
          clearTimeout(timer);
          // Its own caller if it still waits, else the next one that does.
          if (waiting.includes(caller)) {
            leave();
            resolve(reply);
          } else waiting.shift()?.resolve(reply);
        },
        (error: unknown) => {
          clearTimeout(timer);
          leave();
          reject(error);
        },
      );
    });
});

/** Times requests out by its own timer and sends them without expiration: a late server still gets them. */
export const requestsNeverExpire = brokenRequests('requests-never-expire', (healthy) => {
  return (payload, options = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const { timeoutMillis = 30_000, ...rest } = options;
      const timer = setTimeout(
        () => reject(new MqError('TIMEOUT', `[broken] no reply within ${timeoutMillis} ms`)),
        timeoutMillis,
      );
      healthy(payload, { ...rest, timeoutMillis: 60_000 }).then(
        (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
});

/** Ignores `signal`: an aborted request is sent, and waits for its reply. */
export const ignoresSignal = brokenRequests('ignores-signal', (healthy) => (payload, options = {}) => {
  const { signal: _ignored, ...rest } = options;
  return healthy(payload, rest);
});

/** Sends a request again once its link is back, instead of rejecting it CONNECTION_LOST. */
export const requestsSurviveDrop = brokenBackend('requests-survive-drop', (queue, options) => {
  if (options.isRecv) return queue;
  const request = async (payload: Uint8Array, opts?: RequestOptions): Promise<Reply> => {
    try {
      return await queue.request(payload, opts);
    } catch (error) {
      if (!MqError.hasCode(error, 'CONNECTION_LOST')) throw error;
      await waitForStatus(queue, 'connected', { timeoutMillis: 10_000 });
      return queue.request(payload, opts);
    }
  };
  return override(queue, { request });
});

/** Replies without the options the server gave: headers, content type and ids are lost on the way back. */
export const replyLosesMetadata = brokenReplies(
  'reply-loses-metadata',
  (message) => (payload) => message.reply(payload),
);

/** `reply()` on a message without `replyTo` resolves, as if the answer had gone somewhere. */
export const replyWithoutReplyToResolves = brokenReplies(
  'reply-without-reply-to-resolves',
  (message) => (payload, options) =>
    message.replyTo === undefined ? Promise.resolve() : message.reply(payload, options),
);

/** Gives up on a request whose handler failed once (as `maxDeliveries: 1` does): no retry, so no reply. */
export const failedRequestsDropped = brokenOptions('failed-requests-dropped', (options) =>
  options.isRecv ? { ...options, maxDeliveries: 1 } : options,
);

/** Declares `requestReply` false and serves requests anyway: a silent gap the other way round. */
export const declaresNoRequestReply: Backend = {
  ...memoryBackend,
  name: 'declares-no-request-reply',
  capabilities: { ...memoryBackend.capabilities, requestReply: false },
};
