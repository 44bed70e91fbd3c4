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

/** True when `error` is amqplib's report of a broker `basic.nack` on a confirm channel (it has no code). */
export function isBrokerNack(error: unknown): boolean {
  return error instanceof Error && error.message === 'message nacked';
}
