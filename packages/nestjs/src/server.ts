import {
  type Backend,
  type Connection,
  type Message,
  type MqError,
  type Queue,
  type QueueOptions,
  type SendOptions,
  type Status,
  waitForStatus,
} from '@mq/core';
import { topicMatches } from '@mq/core/spi';
import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { resolveBackend } from './backend.js';
import { decodeMessage, encodeFailure, encodeResult } from './codec.js';
import { MqContext } from './context.js';
import { asError, nestError } from './errors.js';
import { logMqError, type MqTransportEvents } from './events.js';
import { takeFailure } from './interceptor.js';
import {
  type MqTransportOptions,
  namedReceiverOptions,
  type ResolvedTransportOptions,
  readTransportOptions,
  receiverOptions,
} from './options.js';
import { parseTopicPattern } from './topic.js';
import { MQ_TRANSPORT } from './transport.js';
import { type MqTransportHealth, Watch } from './watch.js';

/** The handlers of one topic space and group (or broadcast), which share one topic receiver. */
interface TopicGroup {
  readonly options: QueueOptions & Record<string, unknown>;
  readonly handlers: { pattern: string; topic: string }[];
}

/** One receiver: its queue and what the health indicator reads of it. */
interface Receiver {
  readonly queue: Queue;
  readonly watch: Watch;
}

/**
 * A Nest transport strategy on mq (`NestFactory.createMicroservice(AppModule, { strategy: new MqServer({ uri })
 * })`, or `app.connectMicroservice({ strategy })` in a hybrid app): each `@EventPattern('name')` gets a receiver
 * on the queue of that name. A message is acked once its handler's promise resolves (or its observable
 * completes); a handler that throws leaves it to the queue's failure policy (`retryDelayMillis`,
 * `maxDeliveries`, `deadLetter`), and `@Ctx()` is an {@link MqContext}. A `@MessagePattern('name')` answers
 * requests on the queue of that name (a client's `send()`, or any mq `queue.request()`) with its result; on
 * backends with capability `requestReply` (memory, AMQP, MQTT 5).
 */
export class MqServer extends Server<MqTransportEvents, Status> implements CustomTransportStrategy {
  /** Lets `@EventPattern('name', MQ_TRANSPORT)` pick this transport in an app that has several. */
  override transportId: symbol = MQ_TRANSPORT;
  /** Failed handlers reach mq's failure policy, which reports them: Nest need not log them a second time. */
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger('MqServer');
  readonly #options: ResolvedTransportOptions;
  readonly #listeners: { [E in keyof MqTransportEvents]: Set<MqTransportEvents[E]> } = {
    status: new Set(),
    error: new Set(),
  };
  #connection: Connection | undefined;
  #connectionWatch: Watch | undefined;
  readonly #receivers = new Map<string, Receiver>();
  #starting: AbortController | undefined;
  #started = false;
  #closing: Promise<void> | undefined;

  /** Checks the options (`INVALID_OPTIONS` naming the field); nothing connects before `listen()`. */
  constructor(options: MqTransportOptions) {
    super();
    this.#options = readTransportOptions(options, 'MqServer');
  }

  /**
   * Connects and opens one receiver per event pattern; calls back once every receiver is connected, or with
   * the error (`TIMEOUT` after `startTimeoutMillis`, ...), having closed
   * what it opened.
   */
  listen(callback: (error?: unknown) => void): void {
    this.#started = true;
    this.#start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  /** Stops receiving, waits for running handlers (they can still ack and emit), closes the connection. Idempotent. */
  async close(): Promise<void> {
    this.#starting?.abort();
    this.#closing ??= this.#shutDown();
    await this.#closing;
  }

  /** Listens to the connection's `status` and to `error` events of the connection and every receiver. */
  on<E extends keyof MqTransportEvents>(event: E, callback: MqTransportEvents[E]): void {
    this.#listeners[event].add(callback);
  }

  /** The mq `Connection` this server receives on (throws `NOT_CONNECTED` before `listen()`). */
  unwrap<T = Connection>(): T {
    if (!this.#connection) throw nestError('NOT_CONNECTED', 'MqServer.unwrap(): the server is not listening');
    return this.#connection as T;
  }

  /** The connection's and every receiver's health, for {@link MqHealthIndicator}. */
  health(): MqTransportHealth {
    return {
      started: this.#started,
      connection: this.#connection && this.#connectionWatch?.connectionHealth(this.#connection),
      queues: [...this.#receivers].map(([pattern, { queue, watch }]) => watch.receiverHealth(pattern, queue)),
    };
  }

  async #start(): Promise<void> {
    const starting = new AbortController();
    this.#starting = starting;
    try {
      if (this.#connection) throw nestError('INVALID_ARGUMENT', 'MqServer.listen(): already listening');
      const patterns = [...this.getHandlers()];
      const backend = await resolveBackend(this.#options.uri, this.#options.backends);
      starting.signal.throwIfAborted();
      this.#open(backend, patterns);
      const wait = { timeoutMillis: this.#options.startTimeoutMillis, signal: starting.signal };
      await Promise.all(
        [...this.#receivers.values()].map(({ queue }) => waitForStatus(queue, 'connected', wait)),
      );
    } catch (error) {
      await this.close();
      throw error;
    } finally {
      if (this.#starting === starting) this.#starting = undefined;
    }
  }

  #open(backend: Backend, patterns: [string, MessageHandler][]): void {
    const connection = backend.createConnection({ ...this.#options.connection, uri: this.#options.uri });
    this.#connection = connection;
    this.#connectionWatch = new Watch(connection);
    connection.on('status', (status) => {
      this._status$?.next(status);
      for (const listener of this.#listeners.status) listener(status);
    });
    connection.on('error', (error) => this.#reportError('connection', error));
    connection.connect();
    const topicGroups = new Map<string, TopicGroup>();
    for (const [pattern, handler] of patterns) {
      const topic = parseTopicPattern(pattern);
      if (topic === undefined) continue;
      if (!handler.isEventHandler) {
        throw nestError(
          'UNSUPPORTED',
          `@MessagePattern(${pattern}): request/reply goes to a named queue, not a topic pattern`,
        );
      }
      const options = receiverOptions(this.#options, topic.space, handler.extras);
      const { group, broadcast } = options;
      if (broadcast !== true && typeof group !== 'string') {
        throw nestError(
          'INVALID_OPTIONS',
          `@EventPattern(${pattern}) needs a group (its extras, queues['${topic.space}'] or queueDefaults: { group: 'billing' }) whose receivers share its messages, or broadcast: true`,
        );
      }
      const key = broadcast === true ? `${topic.space} (broadcast)` : `${topic.space} (group ${group})`;
      const entry = topicGroups.get(key) ?? { options, handlers: [] };
      entry.handlers.push({ pattern, topic: topic.topic });
      topicGroups.set(key, entry);
    }
    for (const [key, { options, handlers }] of topicGroups) {
      const topics = [...new Set(handlers.map((h) => h.topic))];
      const queue = backend.createQueue({ ...options, routing: 'topic', topics }, connection);
      this.#receivers.set(key, { queue, watch: new Watch(queue) });
      queue.on('error', (error) => this.#reportError(`@EventPattern(${key})`, error));
      queue.setMsgHandler((_queue, message) => this.#dispatch(handlers, message));
      queue.connect();
    }
    for (const [pattern, handler] of patterns) {
      if (parseTopicPattern(pattern) !== undefined) continue;
      const queue = backend.createQueue(
        namedReceiverOptions(this.#options, pattern, handler.extras),
        connection,
      );
      const watch = new Watch(queue);
      this.#receivers.set(pattern, { queue, watch });
      const where = handler.isEventHandler ? `@EventPattern('${pattern}')` : `@MessagePattern('${pattern}')`;
      queue.on('error', (error) => this.#reportError(where, error));
      queue.setMsgHandler((_queue, message) =>
        handler.isEventHandler ? this.#handle(pattern, message) : this.#answer(pattern, message),
      );
      queue.connect();
    }
  }

  /**
   * A message of a topic receiver: every handler of its space and group whose topic pattern matches the message's
   * topic runs (in turn); acked once all succeeded, else left to the failure policy, which runs them all again.
   */
  async #dispatch(handlers: readonly { pattern: string; topic: string }[], message: Message): Promise<void> {
    const topic = message.topic ?? '';
    for (const { pattern } of handlers.filter((h) => topicMatches(h.topic, topic))) {
      await this.#run(pattern, message);
    }
    await message.ack();
  }

  async #handle(pattern: string, message: Message): Promise<void> {
    await this.#run(pattern, message);
    await message.ack();
  }

  /** Runs the handler of `pattern` on `message`; throws what it failed with. */
  async #run(pattern: string, message: Message): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw nestError('NO_HANDLER', `no handler for '${pattern}'`);
    const data = decodeMessage(message);
    const context = new MqContext([message, pattern]);
    await this.#withProcessingHooks(context, async () => {
      const result = this.transformToObservable(await handler(data, context));
      await lastValueFrom(result, { defaultValue: undefined }).catch((failure: unknown) => {
        throw asError(takeFailure(context) ?? failure);
      });
    });
  }

  /**
   * A request to a `@MessagePattern`: replies with the handler's result (an observable's last value), or with
   * the error Nest's exception filter made of its failure (header `x-nest-status: error`), then acks. Only a
   * reply that cannot be sent fails the message, which the failure policy then retries. A message without a
   * reply address (an `emit()` to a message pattern) is handled and acked without reply.
   */
  async #answer(pattern: string, message: Message): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw nestError('NO_HANDLER', `no handler for '${pattern}'`);
    const context = new MqContext([message, pattern]);
    const answer: { reply?: { payload: Buffer; options: SendOptions } } = {};
    await this.#withProcessingHooks(context, async () => {
      try {
        const result = this.transformToObservable(await handler(decodeMessage(message), context));
        answer.reply = encodeResult(await lastValueFrom(result, { defaultValue: undefined }), pattern);
      } catch (failure) {
        // What the client gets is what Nest's exception filter made of the error (never a stack trace).
        takeFailure(context);
        answer.reply = encodeFailure(failure);
      }
    });
    if (message.replyTo === undefined) {
      this.logger.warn(
        `@MessagePattern('${pattern}') got a message with no reply address: handled, not answered`,
      );
    } else if (answer.reply) {
      await message.reply(answer.reply.payload, answer.reply.options);
    }
    await message.ack();
  }

  /** Runs `work` between the processing hooks instrumentation may have set (Nest 11 and later). */
  #withProcessingHooks(context: MqContext, work: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): Promise<void> =>
        work()
          .then(resolve, reject)
          .finally(() => this.onProcessingEndHook?.(this.transportId, context));
      try {
        this.onProcessingStartHook(this.transportId, context, done);
      } catch (error) {
        reject(error);
      }
    });
  }

  #reportError(where: string, error: MqError): void {
    logMqError(this.logger as Logger, where, error);
    for (const listener of this.#listeners.error) listener(error);
  }

  async #shutDown(): Promise<void> {
    try {
      await this.#connection?.close();
    } finally {
      this.#connectionWatch?.stop();
      for (const { watch } of this.#receivers.values()) watch.stop();
      this.#receivers.clear();
      this.#connection = undefined;
      this.#connectionWatch = undefined;
      this.#started = false;
      this.#closing = undefined;
    }
  }
}
