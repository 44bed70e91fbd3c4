import type { StandardSchemaV1 } from './standard-schema.js';

const MARKER = Symbol.for('@mq/core.MqError');

/** Every failure code an mq error can carry; users branch on these, never on messages. */
export type MqErrorCode =
  /** A receiver's `connect()` was called before `setMsgHandler()`. */
  | 'NO_HANDLER'
  /** The queue or connection is not `connected`, so the operation cannot start. */
  | 'NOT_CONNECTED'
  /** `sendMsg()` was called on a receiving queue. */
  | 'SEND_ON_RECEIVER'
  /** `setMsgHandler()` was called on a sending queue. */
  | 'HANDLER_ON_SENDER'
  /** An option failed validation; the message names the field and the rule. */
  | 'INVALID_OPTIONS'
  /** An argument of a method failed validation (for example a payload that is not a `Uint8Array`). */
  | 'INVALID_ARGUMENT'
  /** The queue or connection was closed while the operation was in flight. */
  | 'CLOSED'
  /** The link to the broker was lost while the operation was in flight; its outcome is unknown. */
  | 'CONNECTION_LOST'
  /** The broker refused a message (for example an AMQP `basic.nack`). */
  | 'REJECTED'
  /**
   * A reliable unicast message reached the broker, which discarded it because no receiver was there to take it
   * (an MQTT 5 PUBACK "no matching subscribers"); nothing was delivered, so sending it again is safe.
   */
  | 'NO_RECEIVER'
  /** An ack or nack could not be delivered (for example its channel has died; the broker will redeliver). */
  | 'ACK_FAILED'
  /**
   * A message handler threw or rejected, or did not settle its message within `ackTimeoutMillis`; the message is
   * retried as the receiver's failure policy says (see `retryDelayMillis`).
   */
  | 'HANDLER_FAILED'
  /** A message reached `maxDeliveries` and was moved to the receiver's `deadLetter` queue. */
  | 'DEAD_LETTERED'
  /** A message reached `maxDeliveries` on a receiver without `deadLetter`, and was acked and dropped. */
  | 'DROPPED'
  /**
   * A received message failed to decode (its queue's `codec`) or to validate (its `schema`): it was moved to the
   * queue's `deadLetter` at once, or dropped, never handed to the handler nor retried.
   */
  | 'INVALID_PAYLOAD'
  /** The broker or the client library reported a failure (channel closed, ...) that no other code names. */
  | 'BROKER'
  /** The broker is not reachable: connection refused, no such host, no answer within `connectTimeoutMillis`. */
  | 'UNREACHABLE'
  /** The broker refused the credentials, or the user is not authorized (AMQP 403 ACCESS-REFUSED, MQTT CONNACK 4/5, 134/135). */
  | 'AUTH_FAILED'
  /** AMQP: the virtual host does not exist, or the user may not use it (530 NOT-ALLOWED). */
  | 'VHOST_REFUSED'
  /** TLS failed: handshake, a certificate or host name the client rejected (or the server did), TLS to a plain port. */
  | 'TLS_FAILED'
  /** What answers at the address speaks another protocol (an MQTT port given to an AMQP client, say). */
  | 'PROTOCOL_MISMATCH'
  /**
   * A queue or exchange the app attaches to without declaring it (AMQP `declare: false`) does not exist on the
   * broker; reported once, the queue retries quietly until it does.
   */
  | 'NOT_FOUND'
  /** The backend cannot do what was asked (see its capabilities). */
  | 'UNSUPPORTED'
  /** A wait ran past its deadline. */
  | 'TIMEOUT'
  /** A wait was cancelled through its `AbortSignal`. */
  | 'ABORTED';

/** Options of {@link MqError}. */
export interface MqErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** The validator's issues, for a body that failed the queue's `schema`. */
  issues?: ReadonlyArray<StandardSchemaV1.Issue>;
}

/** The one error class of mq: every error a connection, queue or message reports is an `MqError` with a `code`. */
export class MqError extends Error {
  /** What failed, as a stable code. */
  readonly code: MqErrorCode;
  /** The validator's issues, when a body failed the queue's `schema` (`INVALID_ARGUMENT` of a send). */
  readonly issues?: ReadonlyArray<StandardSchemaV1.Issue>;

  /** Creates an error; `message` should name the package and the field, e.g. `[mq/amqp] prefetch must be ...`. */
  constructor(code: MqErrorCode, message: string, options: MqErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MqError';
    this.code = code;
    if (options.issues !== undefined) this.issues = options.issues;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for any `MqError`, also one made by another copy of `@mq/core` (where `instanceof` fails). */
  static isInstance(value: unknown): value is MqError {
    try {
      return (
        typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true
      );
    } catch {
      // A revoked proxy (thrown by a handler, say) is no MqError, and asking must not throw.
      return false;
    }
  }

  /** True when `value` is an `MqError` with the given code. */
  static hasCode(value: unknown, code: MqErrorCode): value is MqError {
    return MqError.isInstance(value) && value.code === code;
  }
}

// Bundlers may rename the class (`_MqError`); what users see printed must say MqError.
Object.defineProperty(MqError, 'name', { value: 'MqError' });
