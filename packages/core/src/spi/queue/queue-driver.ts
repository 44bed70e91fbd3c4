import type { MqError } from '../../api/errors.js';
import type { Message } from '../../api/message.js';
import type { Reply } from '../../api/reply.js';
import type { SendOptions } from '../../api/send-options.js';
import type { Status } from '../../api/status.js';
import type { DeliveredMessage } from '../message.js';
import type { ResolvedQueueOptions } from '../options/queue-options.js';
import type { PendingSend } from './in-flight.js';

/**
 * What core offers a queue driver: the queue's validated options and status, and the calls through which the
 * driver tells core what happened by itself.
 */
export interface QueueCore<O extends ResolvedQueueOptions = ResolvedQueueOptions> {
  /** The queue's validated options, as its constructor resolved them. */
  readonly options: O;
  /** The queue's current status. */
  readonly status: Status;
  /**
   * Hands core one received message: the failure policy admits it, then the handler runs (tracked for
   * `close()`; a throwing handler becomes `HANDLER_FAILED` and a retry). Build it with `SettleOnceMessage`.
   */
  deliver(message: DeliveredMessage): void;
  /**
   * The driver's broker resources died while the connection stays up (a channel the broker closed): core
   * reports it, goes `disconnected` and calls `open()` again after `reconnectMillis`. A connection loss that
   * comes within the same turn of the event loop wins (core then calls `linkDown()` instead).
   */
  resourceLost(error: unknown): void;
  /** Rejects every send still waiting for the broker: what carries them is gone while the connection lives. */
  failPendingSends(error: MqError): void;
  /** Emits an `error` on the queue, unless it is closed. */
  reportError(error: MqError): void;
  /**
   * Hands core one reply that came to this sender's reply address: core gives it to the request of its
   * `correlationId`, or drops and counts it when no request of that id is waiting (any more).
   */
  deliverReply(reply: Reply): void;
}

/**
 * What a backend implements for one queue, from `connect()` to `closed`: core makes a fresh driver on each
 * `connect()` (see `QueueSetup.driver`) and calls it only between then and `closed`, never concurrently with
 * itself for `open()`.
 */
export interface QueueDriver {
  /**
   * Creates the broker-side resources (channel, topology, consumer); called when the connection is
   * `connected`, and again after each loss. Deliveries may start before it resolves: each must be settleable
   * from the moment it is delivered. Clears leftovers of an earlier attempt.
   */
  open(): Promise<void>;
  /**
   * Sends one message (already validated) and settles `send`: `resolve()` once it is done (written, or confirmed
   * by the broker on a reliable queue), `reject(error)` when it failed, or `follow(promise)`; now or later.
   * Throwing rejects the send. Core rejects it for the driver at `sendTimeoutMillis` and when the connection
   * drops; later settlements do nothing.
   */
  publish(payload: Uint8Array, send: PendingSend, options: SendOptions | undefined): void;
  /**
   * For the failure policy: publishes a copy of `message` (its payload, with `options`' metadata, `mq-` headers
   * included) to this receiver's own source (`to` undefined) or to the unicast queue `to`, settling `send` once
   * the broker has it (confirmed): core acks the original only then. Needed for the traits `requeuesBehind`
   * and `deadLetter`; absent, such a copy rejects with `UNSUPPORTED`.
   */
  republish?(to: string | undefined, message: Message, send: PendingSend, options: SendOptions): void;
  /**
   * For `request()` (capability `requestReply`): the address replies to this sender come to, once whatever
   * receives them is in place (AMQP: a consumer of direct reply-to on the sender's channel; MQTT: one
   * subscription per connection); called before each request, so cache it. Replies go to `core.deliverReply()`.
   * A reply receiver lost with the link is made again on the first request after `open()`.
   */
  replyAddress?(): string | Promise<string>;
  /**
   * For `message.reply()`: sends `payload` (with `options`, already validated, the correlation id included) to
   * the address `to` a request named, settling `send` as `publish()` does. Needed for capability `requestReply`.
   */
  reply?(to: string, payload: Uint8Array, send: PendingSend, options: SendOptions): void;
  /**
   * Receivers: whether the consumer or subscription is in place at the broker now, for `queue.health()`; core
   * asks only while the queue is `connected`. Absent, a connected receiver counts as attached.
   */
  attached?(): boolean;
  /** Stops new deliveries (cancels the consumer), keeping what acks need; first on `close()`. */
  stopReceiving?(): Promise<void>;
  /** Drops the broker-side resources; last on `close()`. Must not throw when there is nothing to drop. Bounded. */
  release(): Promise<void>;
  /**
   * The connection dropped (or an `open()` finished on a link that dropped meanwhile): forget the dead
   * resources. May run more than once; not called after `resourceLost()`, so `open()` clears leftovers too.
   */
  linkDown?(): void;
}

/** A queue's status and the driver of its current cycle, read where they live (the queue's state machine). */
export interface QueueLink {
  /** The queue's current status. */
  readonly status: Status;
  /** The driver of the current `connect()`..`closed` cycle; undefined while closed. */
  readonly driver: QueueDriver | undefined;
}

/** Makes the driver of one `connect()`..`closed` cycle of a queue, given what core offers it. */
export type QueueDriverFactory<O extends ResolvedQueueOptions = ResolvedQueueOptions> = (
  core: QueueCore<O>,
) => QueueDriver;
