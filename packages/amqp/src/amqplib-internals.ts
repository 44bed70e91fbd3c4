import type * as amqp from 'amqplib';

// Everything @mq/amqp relies on that amqplib does not document, in one place. Each is checked against the
// pinned amqplib by test/amqplib-internals.test.ts, which fails when an upgrade changes it.

/** The socket under an amqplib connection (`model.connection.stream`), if amqplib still keeps it there. */
function socketOf(model: amqp.ChannelModel): { destroy(error?: Error): void } | undefined {
  const stream = (model.connection as unknown as { stream?: unknown }).stream;
  if (typeof stream !== 'object' || stream === null) return undefined;
  return typeof (stream as { destroy?: unknown }).destroy === 'function'
    ? (stream as { destroy(error?: Error): void })
    : undefined;
}

/**
 * Destroys the socket under an amqplib connection: amqplib offers no public way to abort a close that the
 * broker never answers, nor to cut a link as a network failure would. With an `error`, amqplib reports the
 * loss (it notices a socket that fails, not one that merely closes). False when the socket is not found.
 */
export function destroySocket(model: amqp.ChannelModel, error?: Error): boolean {
  const socket = socketOf(model);
  socket?.destroy(error);
  return socket !== undefined;
}

/** The writable side of the socket that {@link coalesceWrites} wraps. */
interface CorkableSocket {
  write(...args: unknown[]): boolean;
  cork(): void;
  uncork(): void;
  destroyed?: boolean;
}

/**
 * Makes every write amqplib does on `model`'s socket within one tick go out as one `writev`: the first write of a
 * tick corks the socket and a `process.nextTick` uncorks it. amqplib writes each frame (a publish, an ack) with its
 * own `socket.write`, one syscall each; a lone frame still leaves in the tick it was written, so nothing waits.
 * False when the socket is not found (amqplib moved it): writes then go out one by one, as before.
 */
export function coalesceWrites(model: amqp.ChannelModel): boolean {
  const stream = (model.connection as unknown as { stream?: unknown }).stream;
  if (typeof stream !== 'object' || stream === null) return false;
  const socket = stream as CorkableSocket;
  if (typeof socket.write !== 'function' || typeof socket.cork !== 'function') return false;
  if (typeof socket.uncork !== 'function') return false;
  const write = socket.write;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  socket.write = function coalescedWrite(...args: unknown[]): boolean {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(socket, args);
  };
  return true;
}

/** True when `error` is amqplib's report of a broker `basic.nack` on a confirm channel (it has no code). */
export function isBrokerNack(error: unknown): boolean {
  return error instanceof Error && error.message === 'message nacked';
}
