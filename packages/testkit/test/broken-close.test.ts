import type { Message, MessagesOptions } from '@mq/core';
import { describe, it } from 'vitest';
import { brokenBackend, override, replaced, wrapHandler } from './broken-backends.js';
import { failsExactly } from './evaluate.js';

// Issue #25.2: a receiver broken off or closed must lose nothing on a backend that keeps what it had not acked
// (to any receiver, or to the same session). Each case is proven on a broken memory backend.

/** `break` out of messages() acks what the loop took and had not settled yet (an ack-and-drop on the way out). */
const breakAcksHeld = brokenBackend('break-acks-held', (queue, options) => {
  if (!options.isRecv) return queue;
  return override(queue, {
    messages: (messagesOptions?: MessagesOptions) => {
      const inner = queue.messages(messagesOptions);
      const held = new Set<Message>();
      const wrapped: AsyncIterableIterator<Message> = {
        async next() {
          const result = await inner.next();
          if (result.done) return result;
          const message = result.value;
          held.add(message);
          const settle = (call: () => Promise<void>) => (): Promise<void> => {
            held.delete(message);
            return call();
          };
          return {
            done: false,
            value: replaced(
              message,
              settle(() => message.ack()),
              settle(() => message.nack()),
            ),
          };
        },
        async return(value?: unknown) {
          for (const message of held) await message.ack().catch(() => {});
          held.clear();
          return (await inner.return?.(value)) ?? { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return wrapped;
        },
      };
      return wrapped;
    },
  });
});

/** Closing a receiver acks every message its handlers still hold, before they can nack them. */
const closeAcksHeld = brokenBackend('close-acks-held', (queue, options) => {
  if (!options.isRecv) return queue;
  const held = new Set<Message>();
  queue.on('status', (status) => {
    if (status !== 'closing') return;
    for (const message of held) void message.ack().catch(() => {});
    held.clear();
  });
  return wrapHandler(queue, (handler) => (q, message) => {
    held.add(message);
    const settle = (call: () => Promise<void>) => (): Promise<void> => {
      held.delete(message);
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

describe('a receiver broken off or closed loses nothing it had not acked', () => {
  it('a backend whose break acks what the loop held fails break-loses-nothing (and break-hands-back-unacked)', async () => {
    await failsExactly(breakAcksHeld, [
      'iteration.break-loses-nothing',
      'iteration.break-hands-back-unacked',
    ]);
  }, 60_000);

  it('a backend whose close acks what the handlers held fails closed-receiver-loses-nothing', async () => {
    await failsExactly(closeAcksHeld, ['close.closed-receiver-loses-nothing']);
  }, 60_000);
});
