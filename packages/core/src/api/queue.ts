import type { CodecOption, Sendable } from './codec.js';
import type { MqError } from './errors.js';
import type { QueueHealth } from './health.js';
import type { Message } from './message.js';
import type { Observable } from './observable.js';
import type { Reply, RequestOptions } from './reply.js';
import type { SendOptions } from './send-options.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import type { Status } from './status.js';

/** Events of a {@link Queue}. */
export interface QueueEvents {
  /** The status changed; each change is emitted once, in order. */
  status: (status: Status) => void;
  /** Something went wrong that no promise could report (a handler threw, the broker closed the channel, ...). */
  error: (error: MqError) => void;
}

/**
 * Called for each received message. A handler that throws or rejects does not crash anything: the queue emits
 * an `error` (code `HANDLER_FAILED`) and retries the message as its `retryDelayMillis`, `maxDeliveries` and
 * `deadLetter` say (unless the handler settled it before failing).
 */
export type MessageHandler<T = Buffer> = (queue: Queue<T>, message: Message<T>) => void | Promise<void>;

/**
 * A sender or a receiver on a connection. It starts `closed` and follows its connection down and back up. `T` is
 * the body type (see the option `codec`; inferred from `schema` when one is given).
 */
export interface Queue<T = Buffer> extends Observable<QueueEvents>, AsyncDisposable {
  /** The queue name. */
  readonly name: string;
  /** True for a receiver, false for a sender. */
  readonly isRecv: boolean;
  /** The current status. */
  readonly status: Status;
  /**
   * Sets the handler for received messages; must be called on a receiver before `connect()`. Throws
   * `HANDLER_ON_SENDER` on a sender.
   */
  setMsgHandler(handler: MessageHandler<T>): void;
  /** Starts opening the queue in the background; does nothing unless `closed`. Throws `NO_HANDLER` on a receiver without handler. */
  connect(): void;
  /** Stops receiving, waits for running handlers, releases the queue; idempotent; resolves once `closed`. */
  close(): Promise<void>;
  /**
   * Sends one message, with optional metadata (`options`: headers, ids, content type, expiration; a backend
   * without metadata rejects those with `UNSUPPORTED`); on a reliable queue resolves only once the broker has
   * taken it. The body is checked against `schema` and encoded by `codec` first (`INVALID_ARGUMENT`, nothing
   * sent, when either fails). Network backends do not copy a `'bytes'` body: do not change it afterwards.
   */
  sendMsg(body: Sendable<T>, options?: SendOptions): Promise<void>;
  /**
   * Receivers: at most `concurrency` handlers run at once from now on (see the option); throws
   * `INVALID_ARGUMENT` for anything but an integer from 1 to 65535, `HANDLER_ON_SENDER` on a sender.
   */
  setConcurrency(concurrency: number): void;
  /**
   * Sends a request on a connected sender and resolves with its {@link Reply} (a receiver answers it with
   * `message.reply()`). Rejects `TIMEOUT` after `timeoutMillis`, `ABORTED` through `signal`, `CONNECTION_LOST`
   * when the link drops before the reply came, `CLOSED` when the queue closes, and as `sendMsg()` does;
   * `UNSUPPORTED` on backends without capability `requestReply`. A reply that comes after its request ended is
   * dropped and counted in `droppedReplies`, never handed to another request.
   */
  request(payload: Uint8Array, options?: RequestOptions): Promise<Reply>;
  /**
   * The queue's health now: status; receivers: whether the consumer or subscription is attached at the broker,
   * age of the last delivery, handlers running; sends and requests in flight. Cheap; reads no broker.
   */
  health(): QueueHealth;
  /** Replies that came after their request ended (timed out, aborted) or for no request of this queue, dropped. */
  readonly droppedReplies: number;
  /**
   * The alternative to `setMsgHandler()` on a closed receiver without handler: connects it and yields each
   * message, to be acked or nacked by the loop (the failure policy's `ackTimeoutMillis` applies). Ending the
   * loop (`break`), aborting `options.signal` (the loop then throws `ABORTED`) or a queue error that retrying
   * cannot fix (which the loop throws) closes the receiver, leaving the messages not acked to be redelivered;
   * `close()` ends it. At most `prefetch` messages wait unacked, on backends with capability `prefetch`.
   */
  messages(options?: MessagesOptions): AsyncIterableIterator<Message<T>>;
}

/** Options of {@link Queue.messages}. */
export interface MessagesOptions {
  /** Aborting it ends the iteration (with `ABORTED`) and closes the receiver. */
  signal?: AbortSignal;
}

/** Options every backend's queues take; `T` is the body type. */
export interface QueueOptions<T = Buffer> {
  /**
   * The queue name: lower-case ASCII words of `[a-z0-9_-]` joined by single dots. With `routing: 'topic'` it
   * names the topic space (AMQP: a durable topic exchange; MQTT: the first topic level).
   */
  name: string;
  /**
   * `'queue'`: messages go to the queue `name`. `'topic'`: `name` is a topic space, a sender gives each message a
   * `topic` (`sendMsg`'s `SendOptions.topic`) and a receiver gets those that match one of its `topics`; backends
   * with capability `topicRouting` (elsewhere `UNSUPPORTED`). See docs/routing.md.
   * @default 'queue'
   */
  routing?: 'queue' | 'topic';
  /**
   * Topic receivers only (`routing: 'topic'`, `isRecv: true`; required there): 1 to 64 patterns of words joined
   * by dots, where `*` stands for exactly one word and a last `#` for zero or more words. A message matching
   * several of them arrives once.
   * @default undefined
   */
  topics?: readonly string[];
  /**
   * Topic receivers with `broadcast: false` only (required there): receivers of one group share its messages
   * (each to one of them), and each group gets its own copy of every matching message. `[a-z0-9_-]`, 1 to 64.
   * @default undefined
   */
  group?: string;
  /** True for a receiver, false for a sender. */
  isRecv: boolean;
  /**
   * At-least-once delivery: sends wait for the broker's confirmation and receivers must ack.
   * @default false
   */
  reliable?: boolean;
  /**
   * Every receiver gets every message (fan-out) instead of each message going to one receiver.
   * @default false
   */
  broadcast?: boolean;
  /**
   * Milliseconds before reopening the queue after its broker-side resources fail; while opening keeps failing,
   * the wait doubles (with jitter) up to 30 s (or this, if larger), and starts over once the queue is connected.
   * @default 1000
   */
  reconnectMillis?: number;
  /**
   * Milliseconds a send may wait for the broker (its confirmation, or room in a full socket buffer) before it
   * rejects with `TIMEOUT`; bounds every send, and so `close()`, when a broker goes silent without closing the
   * socket. A timed-out reliable message may or may not have been stored.
   * @default 30000
   */
  sendTimeoutMillis?: number;
  /**
   * The most sends that wait for the link at once: a send made while the queue is `connecting` or `disconnected`
   * (right after `connect()`, or during a short drop) waits for it to be `connected`, up to its
   * `sendTimeoutMillis` (then `TIMEOUT`: it was never sent); past this many (or `sendBufferBytes`) a send rejects
   * at once with `NOT_CONNECTED`. `0`: no send waits (each rejects at once while not connected). A closed or
   * closing queue never buffers.
   * @default 10000
   */
  sendBufferMessages?: number;
  /**
   * The most payload bytes waiting for the link at once (see `sendBufferMessages`); a send that would go past it
   * rejects at once with `NOT_CONNECTED`.
   * @default 33554432 (32 MiB)
   */
  sendBufferBytes?: number;
  /**
   * Milliseconds `close()` waits for running handlers and in-flight sends before it gives up on them: it then
   * emits an `error` (code `TIMEOUT`) saying what it abandoned, rejects the sends still pending with `CLOSED`,
   * and releases the queue (the broker redelivers messages left unacked). Bounds `close()` even when a handler
   * never returns.
   * @default 30000
   */
  closeTimeoutMillis?: number;
  /**
   * Receivers only (a sender given one throws `INVALID_OPTIONS`): the most unacked messages delivered to this
   * receiver at once, on backends that can bound it (capability `prefetch`; MQTT bounds each receiver in the
   * process and holds its connection's reads at that many, see `MqttQueueOptions.prefetch`).
   * @default 100
   */
  prefetch?: number;
  /**
   * Receivers only: when a handler throws, rejects or (with `ackTimeoutMillis`) does not settle its message in
   * time, the message is handed out again no sooner than this many milliseconds later, behind the messages
   * already waiting where the backend can put it there (`0`: at once). `false` keeps the message unacked, as
   * mq did before this option, for apps that settle messages later on purpose: it comes again only once the receiver
   * closes or its link drops.
   * @default 1000
   */
  retryDelayMillis?: number | false;
  /**
   * Receivers only: a message handed to the handler this many times without being acked is not handed to it
   * again: it goes to `deadLetter` if set, otherwise it is acked and dropped; an `error` event (code
   * `DEAD_LETTERED` or `DROPPED`) says so. From 1 to 1000000.
   * @default undefined (retried for ever)
   */
  maxDeliveries?: number;
  /**
   * Receivers only: the unicast queue a message goes to once it reached `maxDeliveries` (needs it), with
   * headers saying why (`mq-dead-letter-from`, `-deliveries`, `-error`, `-time`); any mq receiver of that name
   * gets it. Backends with capability `deadLetter`.
   * @default undefined (dropped)
   */
  deadLetter?: string;
  /**
   * Receivers only: milliseconds a handler has to ack or nack a message after it was handed over; past that
   * the message counts as failed (`HANDLER_FAILED`) and is retried as `retryDelayMillis` says, and the
   * handler's own ack or nack later does nothing.
   * @default undefined (no limit)
   */
  ackTimeoutMillis?: number;
  /**
   * How bodies become bytes and back: `'bytes'` (a `Buffer` in and out, no content type), `'json'`, `'text'`, or
   * a `Codec`. Senders set the codec's content type (not on MQTT 3.1.1, which has none); receivers decode by
   * the content type of each message when it names a built-in codec or this one, else by this codec.
   * @default 'bytes'
   */
  codec?: CodecOption<T>;
  /**
   * A Standard Schema v1 validator (zod, valibot, arktype, ...) bodies must pass: senders reject with
   * `INVALID_ARGUMENT` (its issues in the message, nothing sent); receivers check before the handler, and a
   * message that fails to decode or validate goes to `deadLetter` at once (needs no `maxDeliveries`) or is
   * dropped, with an `error` event `INVALID_PAYLOAD`: it is never retried. With `'bytes'` a schema sees the `Buffer`.
   * @default undefined (no validation)
   */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * Receivers only: at most this many handlers run at once; the other messages wait in arrival order, unacked and
   * counted against `prefetch`. From 1 to 65535; `setConcurrency()` changes it at run time. Applies to
   * `setMsgHandler()` handlers, not to `messages()` loops. Waiting for a turn does not count against
   * `ackTimeoutMillis`.
   * @default undefined (as many as are delivered: up to `prefetch`)
   */
  concurrency?: number;
  /**
   * Receivers only: the ordering key of a message (e.g. a header); messages of one key are handled one at a time,
   * in arrival order, while other keys run concurrently (within `concurrency`). `undefined` for a message: no key.
   * A key function that throws counts as no key.
   * @default undefined (no per-key order)
   */
  orderingKey?(message: Message<T>): string | undefined;
}

/**
 * Queue options of any body type: the typed fields (`codec`, `schema`, `orderingKey`) read as `unknown`, as a
 * backend's setup function takes them before validating (`QueueOptions<T>` is invariant in `T`).
 */
export type UntypedQueueOptions<O extends object> = Omit<O, 'codec' | 'schema' | 'orderingKey'> & {
  /** See {@link QueueOptions.codec}. */
  readonly codec?: unknown;
  /** See {@link QueueOptions.schema}. */
  readonly schema?: unknown;
  /** See {@link QueueOptions.orderingKey}. */
  readonly orderingKey?: unknown;
};
