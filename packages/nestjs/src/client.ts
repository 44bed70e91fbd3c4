import { type Backend, type Connection, type Queue, type Status, waitForStatus } from '@mq/core';
import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { resolveBackend } from './backend.js';
import { decodeReply, encodePacket } from './codec.js';
import { nestError } from './errors.js';
import { logMqError, type MqTransportEvents } from './events.js';
import {
  type MqTransportOptions,
  type ResolvedTransportOptions,
  readTransportOptions,
  senderOptions,
} from './options.js';
import { parseTopicPattern } from './topic.js';
import { type MqTransportHealth, Watch } from './watch.js';

/** One sender: its queue, and what the health indicator reads of it. */
interface Sender {
  readonly queue: Queue;
  readonly watch: Watch;
}

/** A connection made, and whether it was ever connected (only until then do emits wait for it). */
interface Link {
  readonly backend: Backend;
  readonly connection: Connection;
  connectedOnce: boolean;
}

/**
 * A Nest `ClientProxy` on mq: `emit(pattern, data)` sends `data` as JSON (or an {@link MqRecord} with metadata)
 * on a sender of the queue named `pattern`, reliable by default, and its observable completes once the broker
 * has the message (confirmed on a reliable queue) or errors with the `MqError` (while the link is down it waits
 * for it within `sendTimeoutMillis` and mq's send buffer, `sendBufferMessages`). `send(pattern, data)` makes a
 * request (`queue.request()`) on that sender and yields the `@MessagePattern` handler's result, then completes; it errors with the handler's error
 * as Nest's exception filter made it (`{ status: 'error', message }`), or with the `MqError` (`TIMEOUT` after
 * `requestTimeoutMillis`, `CONNECTION_LOST`, ...). Unsubscribing aborts the request.
 */
export class MqClient extends ClientProxy<MqTransportEvents, Status> {
  readonly #options: ResolvedTransportOptions;
  readonly #logger = new Logger('MqClient');
  readonly #listeners: { [E in keyof MqTransportEvents]: Set<MqTransportEvents[E]> } = {
    status: new Set(),
    error: new Set(),
  };
  #link: Promise<Link> | undefined;
  #connection: Connection | undefined;
  #connectionWatch: Watch | undefined;
  readonly #senders = new Map<string, Sender>();
  #closing: Promise<void> | undefined;

  /** Checks the options (`INVALID_OPTIONS` naming the field); nothing connects before `connect()` or `emit()`. */
  constructor(options: MqTransportOptions) {
    super();
    this.#options = readTransportOptions(options, 'MqClient');
  }

  /**
   * Makes the connection on first call and resolves once it is connected (`TIMEOUT` after
   * `startTimeoutMillis`); afterwards resolves at once, while mq keeps reconnecting in the background.
   */
  async connect(): Promise<Connection> {
    if (this.#closing) await this.#closing;
    const link = await this.#makeLink();
    if (!link.connectedOnce) await this.#firstConnection(link.connection);
    return link.connection;
  }

  /** Closes every sender (waiting for sends in flight) and the connection. Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    await this.#closing;
  }

  /** Listens to the connection's `status` and to `error` events of the connection and every sender. */
  override on<E extends keyof MqTransportEvents>(event: E, callback: MqTransportEvents[E]): void {
    this.#listeners[event].add(callback);
  }

  /** The mq `Connection` (throws `NOT_CONNECTED` before `connect()` or the first `emit()`). */
  unwrap<T = Connection>(): T {
    if (!this.#connection) throw nestError('NOT_CONNECTED', 'MqClient.unwrap(): call connect() first');
    return this.#connection as T;
  }

  /** The connection's and every sender's health, for {@link MqHealthIndicator}. */
  health(): MqTransportHealth {
    return {
      started: this.#link !== undefined,
      connection: this.#connection && this.#connectionWatch?.connectionHealth(this.#connection),
      queues: [...this.#senders].map(([pattern, { queue, watch }]) => watch.senderHealth(pattern, queue)),
    };
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const abort = new AbortController();
    this.#request(packet, abort.signal).then(
      ({ failed, value }) => {
        if (abort.signal.aborted) return;
        callback(failed ? { err: value, isDisposed: true } : { response: value, isDisposed: true });
      },
      (error: unknown) => {
        if (!abort.signal.aborted) callback({ err: error, isDisposed: true });
      },
    );
    return () => abort.abort();
  }

  async #request(packet: ReadPacket, signal: AbortSignal): Promise<{ failed: boolean; value: unknown }> {
    const pattern = this.normalizePattern(packet.pattern);
    const { payload, options } = encodePacket(packet.data, pattern);
    const { replyTo: _replyTo, ...requestOptions } = options;
    const sender = await this.#sender(pattern);
    if (!sender.watch.connectedOnce) await this.#firstConnection(sender.queue);
    signal.throwIfAborted();
    const timeoutMillis = this.#options.requestTimeoutMillis;
    const reply = await sender.queue.request(payload, {
      ...requestOptions,
      signal,
      ...(timeoutMillis === undefined ? {} : { timeoutMillis }),
    });
    return decodeReply(reply);
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    const pattern = this.normalizePattern(packet.pattern);
    const { payload, options } = encodePacket(packet.data, pattern);
    const topic = parseTopicPattern(pattern);
    const sender = topic ? await this.#sender(topic.space, true) : await this.#sender(pattern);
    if (!sender.watch.connectedOnce) await this.#firstConnection(sender.queue);
    await sender.queue.sendMsg(payload, topic ? { ...options, topic: topic.topic } : options);
    return undefined as T;
  }

  /** Makes the connection once (it then reconnects by itself until `close()`). */
  #makeLink(): Promise<Link> {
    if (this.#closing) return Promise.reject(nestError('CLOSED', 'MqClient is closing'));
    this.#link ??= this.#createLink().catch((error: unknown) => {
      this.#link = undefined;
      throw error;
    });
    return this.#link;
  }

  async #createLink(): Promise<Link> {
    const backend = await resolveBackend(this.#options.uri, this.#options.backends);
    const connection = backend.createConnection({ ...this.#options.connection, uri: this.#options.uri });
    const link: Link = { backend, connection, connectedOnce: false };
    this.#connection = connection;
    this.#connectionWatch = new Watch(connection);
    connection.on('status', (status) => {
      if (status === 'connected') link.connectedOnce = true;
      this._status$?.next(status);
      for (const listener of this.#listeners.status) listener(status);
    });
    connection.on('error', (error) => this.#reportError('connection', error));
    connection.connect();
    return link;
  }

  /** Waits for a connection or sender to connect, the first time only, within `startTimeoutMillis`. */
  #firstConnection(source: Connection | Queue): Promise<void> {
    return waitForStatus(source, 'connected', { timeoutMillis: this.#options.startTimeoutMillis });
  }

  /** The sender of queue `name`, or of topic space `name` (`topics`), made on first use. */
  async #sender(name: string, topics = false): Promise<Sender> {
    const key = topics ? `${name} (topics)` : name;
    const existing = this.#senders.get(key);
    if (existing) return existing;
    const link = await this.#makeLink();
    if (!link.connectedOnce) await this.#firstConnection(link.connection);
    const again = this.#senders.get(key);
    if (again) return again;
    const options = senderOptions(this.#options, name);
    const queue = link.backend.createQueue(
      topics ? { ...options, routing: 'topic' } : options,
      link.connection,
    );
    const sender: Sender = { queue, watch: new Watch(queue) };
    queue.on('error', (error) => this.#reportError(`emit('${key}')`, error));
    queue.connect();
    this.#senders.set(key, sender);
    return sender;
  }

  #reportError(where: string, error: Parameters<MqTransportEvents['error']>[0]): void {
    logMqError(this.#logger, where, error);
    for (const listener of this.#listeners.error) listener(error);
  }

  async #shutDown(): Promise<void> {
    try {
      await this.#connection?.close();
    } finally {
      this.#connectionWatch?.stop();
      for (const { watch } of this.#senders.values()) watch.stop();
      this.#senders.clear();
      this.#connection = undefined;
      this.#connectionWatch = undefined;
      this.#link = undefined;
      this.#closing = undefined;
    }
  }
}
