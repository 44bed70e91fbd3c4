import type { Status } from './status.js';

/**
 * A queue's health at one moment, from `queue.health()`: what a readiness probe needs to tell a receiver that
 * stopped consuming (after a broker restart, a deleted queue, ...) from one that has nothing to do.
 */
export interface QueueHealth {
  /** The queue name. */
  readonly name: string;
  /** True for a receiver. */
  readonly isRecv: boolean;
  /** The queue's status. */
  readonly status: Status;
  /** Milliseconds since the queue got this status. */
  readonly statusAgeMillis: number;
  /**
   * Receivers: whether their consumer (AMQP) or subscription (MQTT, memory) is attached at the broker now, as
   * the backend knows it, so that messages can reach them; `undefined` on a sender.
   */
  readonly attached: boolean | undefined;
  /** Receivers: milliseconds since the last message reached the queue; `undefined` before the first one or on a sender. */
  readonly lastDeliveryAgeMillis: number | undefined;
  /** Receivers: handlers running now (0 on a sender). */
  readonly handlersRunning: number;
  /** Sends (and replies, failure-policy copies) handed to the broker and waiting for it now. */
  readonly sendsInFlight: number;
  /** Sends waiting for the link (while the queue is not connected, within `sendBufferMessages`). */
  readonly sendsBuffered: number;
  /** Payload bytes of the sends waiting for the link (within `sendBufferBytes`). */
  readonly bufferedBytes: number;
  /** Requests (`request()`) waiting for their reply now. */
  readonly requestsPending: number;
  /** The code and message of the last error reported since the queue was last `connected`, if any. */
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
}

/** A connection's health at one moment, from `connection.health()`, with that of each of its open queues. */
export interface ConnectionHealth {
  /** The connection's status; the link to the broker is up only while `connected`. */
  readonly status: Status;
  /** True while the link to the broker is up (`status` is `connected`). */
  readonly linkUp: boolean;
  /** Milliseconds since the connection got this status. */
  readonly statusAgeMillis: number;
  /** The broker address in use (password redacted), when the backend gives one. */
  readonly address: string | undefined;
  /** The code and message of the last error reported since the connection was last `connected`, if any. */
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
  /** The health of every queue opened (`connect()`) on this connection and not closed since. */
  readonly queues: readonly QueueHealth[];
}
