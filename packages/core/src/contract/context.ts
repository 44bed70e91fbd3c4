import type { CodecOption } from '../api/codec.js';
import type { Connection } from '../api/connection.js';
import { MqError } from '../api/errors.js';
import type { Message } from '../api/message.js';
import type { Queue, QueueOptions } from '../api/queue.js';
import type { StandardSchemaV1 } from '../api/standard-schema.js';
import type { Status } from '../api/status.js';
import { type StatusSource, waitForStatus } from '../api/wait.js';
import { settledBy } from '../spi/message.js';
import { ContractFailure } from './assert.js';
import type { ContractTarget } from './types.js';

/** Shape of the queue options a case asks for; the context adds the target's extras. */
export interface CaseQueueOptions {
  /** Queue name; use `ctx.name()` for a unique one. */
  name: string;
  /** True for a receiver. */
  isRecv: boolean;
  /** @default false */
  reliable?: boolean;
  /** @default false */
  broadcast?: boolean;
  /** @default 50 for receivers; `null` gives none, so that the backend's default applies */
  prefetch?: number | null;
  /** @default 200 */
  reconnectMillis?: number;
  /** @default the backend's (30000) */
  sendTimeoutMillis?: number;
  /** @default the backend's (10000) */
  sendBufferMessages?: number;
  /** @default the backend's (30000) */
  closeTimeoutMillis?: number;
  /** @default the backend's (1000) */
  retryDelayMillis?: number | false;
  /** @default none */
  maxDeliveries?: number;
  /** @default none */
  deadLetter?: string;
  /** @default none */
  ackTimeoutMillis?: number;
  /** @default 'bytes' */
  codec?: CodecOption<unknown>;
  /** @default none */
  schema?: StandardSchemaV1;
  /** @default none */
  concurrency?: number;
  /** @default none */
  orderingKey?: (message: Message<unknown>) => string | undefined;
  /** @default 'queue' */
  routing?: 'queue' | 'topic';
  /** @default none */
  topics?: readonly string[];
  /** @default none */
  group?: string;
}

/** A message as a {@link Collector} saw it. */
export interface Received {
  /** The payload as received. */
  payload: Buffer;
  /** The payload as text (for readable assertions). */
  text: string;
  /** The message, to ack or nack by hand. */
  message: Message;
}

/**
 * How a {@link Collector} settles what it receives: `'ack'` acks in the handler before it returns,
 * `'ack-sync'` acks from a handler that returns nothing (no promise), `'ack-microtask'` acks in a microtask
 * after the handler returned, `'none'` leaves messages unsettled, a function decides per message.
 */
export type Settle =
  | 'ack'
  | 'ack-sync'
  | 'ack-microtask'
  | 'none'
  | ((received: Received) => Promise<void> | void);

/** One `ack()` or `nack()` a case made, and how it ended so far. */
export interface Settlement {
  /** Which call. */
  verb: 'ack' | 'nack';
  /** The payload text of the message. */
  text: string;
  /** `pending` until the promise settles. */
  outcome: 'pending' | 'resolved' | 'rejected';
  /** The rejection, if any. */
  error?: unknown;
  /** The promise the call returned, settled or not. */
  promise: Promise<void>;
}

/**
 * Records everything a receiver gets, and settles it. Every `ack()` and `nack()` made on a message it hands
 * out (by itself or by the case) is recorded; the runner fails a case in which one of them rejected or never
 * settled, unless the case said so with {@link Collector.allowSettleFailures}.
 */
export class Collector {
  /** Everything received, in arrival order. */
  readonly received: Received[] = [];
  /** Errors the queue emitted. */
  readonly errors: MqError[] = [];
  /** Every ack and nack made on the messages received, in call order. */
  readonly settlements: Settlement[] = [];
  readonly #waiters = new Set<() => void>();
  #settleFailuresAllowed = false;

  /** `settle` says what to do with each message. */
  constructor(readonly settle: Settle = 'ack') {}

  /** The case expects some acks or nacks to fail (for example across a dropped link): the runner does not check them. */
  allowSettleFailures(): void {
    this.#settleFailuresAllowed = true;
  }

  /** True unless {@link Collector.allowSettleFailures} was called. */
  get checksSettlements(): boolean {
    return !this.#settleFailuresAllowed;
  }

  /** Acks and nacks that resolved. */
  settledCount(verb: 'ack' | 'nack' = 'ack'): number {
    return this.settlements.filter((s) => s.verb === verb && s.outcome === 'resolved').length;
  }

  /** Acks and nacks that rejected. */
  get failedSettlements(): Settlement[] {
    return this.settlements.filter((s) => s.outcome === 'rejected');
  }

  /** The texts received, in arrival order. */
  get texts(): string[] {
    return this.received.map((r) => r.text);
  }

  /** The handler to give to `setMsgHandler`. */
  readonly handler = (_queue: Queue, message: Message): Promise<void> | undefined => {
    const text = message.payload.toString('latin1');
    const tracked = this.#tracked(message, text);
    const received: Received = { payload: message.payload, text, message: tracked };
    this.received.push(received);
    for (const wake of [...this.#waiters]) wake();
    switch (this.settle) {
      case 'ack':
        return tracked.ack();
      case 'ack-sync':
        void tracked.ack().catch(() => {});
        return undefined;
      case 'ack-microtask':
        queueMicrotask(() => {
          void tracked.ack().catch(() => {});
        });
        return undefined;
      case 'none':
        return undefined;
      default:
        return Promise.resolve(this.settle(received));
    }
  };

  /** The message as the case sees it: the same, with every ack and nack recorded. */
  #tracked(message: Message, text: string): Message {
    const record = (verb: 'ack' | 'nack', call: () => Promise<void>): Promise<void> => {
      let promise: Promise<void>;
      try {
        promise = call();
      } catch (error) {
        promise = Promise.reject(error);
      }
      const settlement: Settlement = { verb, text, outcome: 'pending', promise };
      this.settlements.push(settlement);
      promise.then(
        () => {
          settlement.outcome = 'resolved';
          this.#wakeAll();
        },
        (error: unknown) => {
          settlement.outcome = 'rejected';
          settlement.error = error;
          this.#wakeAll();
        },
      );
      return promise;
    };
    return settledBy(
      message,
      () => record('ack', () => message.ack()),
      () => record('nack', () => message.nack()),
    );
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves once `predicate` holds over what was received; rejects with a readable failure after `timeoutMillis`. */
  until(predicate: (c: Collector) => boolean, what: string, timeoutMillis: number): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(
          new ContractFailure(
            `timed out after ${timeoutMillis} ms waiting for ${what}; received ${this.received.length}: ${preview(this.texts)}`,
          ),
        );
      }, timeoutMillis);
      this.#waiters.add(wake);
    });
  }

  /** Resolves once `count` messages were received. */
  untilCount(count: number, timeoutMillis: number): Promise<void> {
    return this.until((c) => c.received.length >= count, `${count} messages`, timeoutMillis);
  }

  /** Resolves once a message with this text was received. */
  untilText(text: string, timeoutMillis: number): Promise<void> {
    return this.until(
      (c) => c.received.some((r) => r.text === text),
      `message ${JSON.stringify(text)}`,
      timeoutMillis,
    );
  }
}

/** Everything a contract case may use: factories that track what they make, unique names and waits. */
export class ContractContext {
  /** The target under test. */
  readonly target: ContractTarget;
  /** Default milliseconds for one wait inside a case (scaled). */
  readonly waitMillis: number;
  readonly #connections: Connection[] = [];
  readonly #queues: Queue[] = [];
  readonly #collectors: Collector[] = [];
  readonly #deferred: Array<() => Promise<void>> = [];
  readonly #label: string;
  #counter = 0;

  /** `label` goes into queue names so that a leftover on the broker says which case made it. */
  constructor(target: ContractTarget, label: string) {
    this.target = target;
    this.waitMillis = 10_000 * (target.timeScale ?? 1);
    this.#label = label.replace(/[^a-z0-9-]+/g, '-').slice(0, 40);
  }

  /** A queue name no other test uses. */
  name(part = 'q'): string {
    this.#counter += 1;
    const random = Math.random().toString(36).slice(2, 10);
    return `mqct.${this.#label}.${part}${this.#counter}-${random}`;
  }

  /** A new tracked connection to the broker under test, not yet connected. */
  newConnection(options: Record<string, unknown> = this.target.connectionOptions()): Connection {
    const connection = this.target.backend.createConnection(options);
    this.#connections.push(connection);
    return connection;
  }

  /** A new tracked connection, connected. */
  async connection(): Promise<Connection> {
    const connection = this.newConnection();
    connection.connect();
    await this.waitStatus(connection, 'connected');
    return connection;
  }

  /**
   * A connected connection for the session cases (`keepsUnacked`): with `options` from the target's
   * `sessionConnectionOptions` (the same options again resume that session), or a plain one where there are none.
   */
  async sessionConnection(options: Record<string, unknown> | undefined): Promise<Connection> {
    const connection = this.newConnection(options ?? this.target.connectionOptions());
    connection.connect();
    await this.waitStatus(connection, 'connected');
    return connection;
  }

  /** A new tracked queue (not connected) with defaults suited to tests and the target's extras. */
  newQueue(connection: Connection, options: CaseQueueOptions): Queue {
    const reliable = options.reliable ?? false;
    const broadcast = options.broadcast ?? false;
    const { prefetch, ...rest } = options;
    const full: QueueOptions<unknown> & Record<string, unknown> = {
      reconnectMillis: 200,
      ...(options.isRecv && prefetch === undefined ? { prefetch: 50 } : {}),
      ...(prefetch === undefined || prefetch === null ? {} : { prefetch }),
      ...rest,
      ...this.target.extraQueueOptions?.({ isRecv: options.isRecv, reliable, broadcast }),
    };
    const queue = this.target.backend.createQueue(full, connection);
    this.#queues.push(queue);
    return queue;
  }

  /** A connected sender. */
  async sender(connection: Connection, options: Omit<CaseQueueOptions, 'isRecv'>): Promise<Queue> {
    const queue = this.newQueue(connection, { ...options, isRecv: false });
    queue.connect();
    await this.waitStatus(queue, 'connected');
    return queue;
  }

  /** A connected receiver whose messages go to a new {@link Collector}. */
  async receiver(
    connection: Connection,
    options: Omit<CaseQueueOptions, 'isRecv'>,
    settle: Settle = 'ack',
  ): Promise<{ queue: Queue; collector: Collector }> {
    const started = this.startReceiver(connection, options, settle);
    await this.waitStatus(started.queue, 'connected');
    return started;
  }

  /**
   * A receiver whose messages go to a new {@link Collector}, with `connect()` called and not waited for: its
   * first deliveries may come while it is still `connecting`, as when a worker starts on a backlog.
   */
  startReceiver(
    connection: Connection,
    options: Omit<CaseQueueOptions, 'isRecv'>,
    settle: Settle = 'ack',
  ): { queue: Queue; collector: Collector } {
    const queue = this.newQueue(connection, { ...options, isRecv: true });
    const collector = new Collector(settle);
    this.#collectors.push(collector);
    queue.on('error', (error) => collector.errors.push(error));
    queue.setMsgHandler(collector.handler);
    queue.connect();
    return { queue, collector };
  }

  /**
   * Fails unless every ack and nack made on the messages of this case's collectors has resolved (waiting a
   * bounded time for those still pending); collectors that allow failures are left out. The runner calls it
   * after each case that passed.
   */
  async checkSettlements(): Promise<void> {
    const checked = this.#collectors.filter((c) => c.checksSettlements);
    const pending = (): number =>
      checked.reduce((n, c) => n + c.settlements.filter((s) => s.outcome === 'pending').length, 0);
    const deadline = Date.now() + this.waitMillis;
    while (pending() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const failed = checked.flatMap((c) => c.failedSettlements);
    if (failed.length > 0) {
      const shown = failed
        .slice(0, 3)
        .map((s) => `${s.verb} of ${JSON.stringify(s.text)}: ${errorText(s.error)}`)
        .join('; ');
      throw new ContractFailure(
        `${failed.length} ack/nack call(s) rejected, every one should have resolved: ${shown}`,
      );
    }
    const left = pending();
    if (left > 0)
      throw new ContractFailure(`${left} ack/nack call(s) never settled within ${this.waitMillis} ms`);
  }

  /** Waits for a status, failing readably after the default wait. */
  async waitStatus(source: StatusSource, status: Status, timeoutMillis = this.waitMillis): Promise<void> {
    try {
      await waitForStatus(source, status, { timeoutMillis });
    } catch (error) {
      if (MqError.hasCode(error, 'TIMEOUT')) throw new ContractFailure(error.message);
      throw error;
    }
  }

  /**
   * Polls `predicate` until it holds, failing readably after `timeoutMillis`; `what` may be a function, so
   * that the failure can say how far things got.
   */
  async poll(
    predicate: () => boolean,
    what: string | (() => string),
    timeoutMillis = this.waitMillis,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    while (!predicate()) {
      if (Date.now() > deadline) {
        const said = typeof what === 'function' ? what() : what;
        throw new ContractFailure(`timed out after ${timeoutMillis} ms waiting for ${said}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Waits out a quiet period: for checks that something does *not* happen, such as a late message or an event
   * after `closed`, which no event can announce. Long enough for a broker round trip and a backend's timers of a
   * few hundred milliseconds; a `timeScale` above 1 lengthens it, one below 1 never shortens it (a shorter
   * window would stop seeing late events, not make the backend faster).
   */
  quiet(millis = 300): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, millis * Math.max(1, this.target.timeScale ?? 1)));
  }

  /** Records every status a source emits from now on. */
  recordStatuses(source: { on(event: 'status', listener: (s: Status) => void): unknown }): Status[] {
    const seen: Status[] = [];
    source.on('status', (status) => seen.push(status));
    return seen;
  }

  /** Runs `step` at cleanup, after every queue and connection is closed (for proxies and the like). */
  defer(step: () => Promise<void>): void {
    this.#deferred.push(step);
  }

  /** Closes every queue, then every connection made through this context, then the deferred steps; never throws. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.#queues.map((queue) => queue.close()));
    await Promise.allSettled(this.#connections.map((connection) => connection.close()));
    await Promise.allSettled(this.#deferred.map((step) => step()));
  }
}

function errorText(error: unknown): string {
  if (MqError.isInstance(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function preview(texts: string[]): string {
  const shown = texts.slice(0, 20).map((t) => JSON.stringify(t.length > 30 ? `${t.slice(0, 30)}...` : t));
  return `[${shown.join(', ')}${texts.length > 20 ? ', ...' : ''}]`;
}
