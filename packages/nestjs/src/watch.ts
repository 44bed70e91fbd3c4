import type { Connection, MqError, Queue, Status } from '@mq/core';

/** The last error a connection or queue reported. */
export interface MqLastError {
  /** Its `MqError` code. */
  readonly code: string;
  /** Its message (passwords are never in mq's messages). */
  readonly message: string;
  /** When it came, in milliseconds since the epoch. */
  readonly at: number;
}

/** A connection's health, as {@link MqServer.health} and {@link MqClient.health} report it. */
export interface MqConnectionHealth {
  /** The broker address in use (password as `***`), when the backend says. */
  readonly address: string | undefined;
  /** The connection's status; only `connected` is healthy. */
  readonly status: Status;
  /** Whether the link to the broker is up (core's `connection.health().linkUp`). */
  readonly linkUp: boolean;
  /** When it got this status, in milliseconds since the epoch. */
  readonly since: number;
  /** The last error it reported, if any. */
  readonly lastError: MqLastError | undefined;
}

/** A queue's health: one receiver (an `@EventPattern`) or one sender (a pattern `emit()` used). */
export interface MqQueueHealth {
  /** The pattern, which is the queue name. */
  readonly pattern: string;
  /** `receiver` (its consumer or subscription is attached only while `connected`) or `sender`. */
  readonly side: 'receiver' | 'sender';
  /** The queue's status; only `connected` is healthy. */
  readonly status: Status;
  /**
   * Receivers: whether the consumer (AMQP) or subscription (MQTT, memory) is attached at the broker now, as core's
   * `queue.health()` says; a receiver not attached is unhealthy. `undefined` for a sender.
   */
  readonly attached?: boolean | undefined;
  /** When it got this status, in milliseconds since the epoch. */
  readonly since: number;
  /** The last error it reported (a failed handler, a dead letter, a channel the broker closed, ...), if any. */
  readonly lastError: MqLastError | undefined;
  /** Receivers: when the last message reached the handler, in milliseconds since the epoch. */
  readonly lastDeliveryAt?: number | undefined;
  /** Receivers: handlers running now. */
  readonly handlersRunning?: number;
  /** Sends (senders), replies and failure-policy copies (receivers) waiting for the broker now. */
  readonly sendsInFlight?: number;
  /** Senders: emits waiting for the link now (mq's send buffer, `sendBufferMessages`). */
  readonly sendsBuffered?: number;
}

/** What one transport (a server or a client) reports about its connection and queues. */
export interface MqTransportHealth {
  /** A server: `listen()` was called (and `close()` not since); a client: `connect()` or `emit()` was. */
  readonly started: boolean;
  /** The connection, or undefined before it was made (a server not listening, a client never connected). */
  readonly connection: MqConnectionHealth | undefined;
  /** Its queues. */
  readonly queues: readonly MqQueueHealth[];
}

/** Follows one connection or queue's status and errors, as the health indicator reads them. */
export class Watch {
  status: Status;
  since = Date.now();
  lastError: MqLastError | undefined;
  /** Whether it has been `connected` at least once. */
  connectedOnce: boolean;
  readonly #source: Connection | Queue;
  readonly #onStatus = (status: Status): void => {
    this.status = status;
    this.since = Date.now();
    if (status === 'connected') this.connectedOnce = true;
  };
  readonly #onError = (error: MqError): void => {
    this.lastError = { code: error.code, message: error.message, at: Date.now() };
  };

  /** Starts listening to `source`'s events; `stop()` removes the listeners. */
  constructor(source: Connection | Queue) {
    this.#source = source;
    this.status = source.status;
    this.connectedOnce = source.status === 'connected';
    source.on('status', this.#onStatus);
    source.on('error', this.#onError);
  }

  /** Removes the listeners. */
  stop(): void {
    this.#source.off('status', this.#onStatus);
    this.#source.off('error', this.#onError);
  }

  /** The connection's health, read from core's `connection.health()`. */
  connectionHealth(connection: Connection): MqConnectionHealth {
    const core = connection.health();
    return {
      address: core.address,
      status: core.status,
      linkUp: core.linkUp,
      since: this.since,
      lastError: this.lastError,
    };
  }

  /** A receiver's health, read from core's `queue.health()`. */
  receiverHealth(pattern: string, queue: Queue): MqQueueHealth {
    const core = queue.health();
    return {
      pattern,
      side: 'receiver',
      status: core.status,
      attached: core.attached === true,
      since: this.since,
      lastError: this.lastError,
      lastDeliveryAt:
        core.lastDeliveryAgeMillis === undefined ? undefined : Date.now() - core.lastDeliveryAgeMillis,
      handlersRunning: core.handlersRunning,
      sendsInFlight: core.sendsInFlight,
    };
  }

  /** A sender's health, read from core's `queue.health()`. */
  senderHealth(pattern: string, queue: Queue): MqQueueHealth {
    const core = queue.health();
    return {
      pattern,
      side: 'sender',
      status: core.status,
      since: this.since,
      lastError: this.lastError,
      sendsInFlight: core.sendsInFlight,
      sendsBuffered: core.sendsBuffered,
    };
  }
}
