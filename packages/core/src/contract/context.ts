import { MqError } from '../errors.js';
import type { Status } from '../status.js';
import type { Connection, Message, Queue, QueueOptions } from '../types.js';
import { type StatusSource, waitForStatus } from '../wait.js';
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
  /** @default 50 for receivers */
  prefetch?: number;
  /** @default 200 */
  reconnectMillis?: number;
  /** @default the backend's (30000) */
  sendTimeoutMillis?: number;
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

/** How a {@link Collector} settles what it receives. */
export type Settle = 'ack' | 'none' | ((received: Received) => Promise<void> | void);

/** Records everything a receiver gets, and settles it. */
export class Collector {
  /** Everything received, in arrival order. */
  readonly received: Received[] = [];
  /** Errors the queue emitted. */
  readonly errors: MqError[] = [];
  readonly #waiters = new Set<() => void>();

  /** `settle` says what to do with each message. */
  constructor(readonly settle: Settle = 'ack') {}

  /** The texts received, in arrival order. */
  get texts(): string[] {
    return this.received.map((r) => r.text);
  }

  /** The handler to give to `setMsgHandler`. */
  readonly handler = async (_queue: Queue, message: Message): Promise<void> => {
    const received: Received = {
      payload: message.payload,
      text: message.payload.toString('latin1'),
      message,
    };
    this.received.push(received);
    for (const wake of [...this.#waiters]) wake();
    if (this.settle === 'ack') await message.ack();
    else if (typeof this.settle === 'function') await this.settle(received);
  };

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

  /** A new tracked queue (not connected) with defaults suited to tests and the target's extras. */
  newQueue(connection: Connection, options: CaseQueueOptions): Queue {
    const reliable = options.reliable ?? false;
    const broadcast = options.broadcast ?? false;
    const full: QueueOptions & Record<string, unknown> = {
      reconnectMillis: 200,
      ...(options.isRecv ? { prefetch: 50 } : {}),
      ...options,
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
    const queue = this.newQueue(connection, { ...options, isRecv: true });
    const collector = new Collector(settle);
    queue.on('error', (error) => collector.errors.push(error));
    queue.setMsgHandler(collector.handler);
    queue.connect();
    await this.waitStatus(queue, 'connected');
    return { queue, collector };
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

  /** Polls `predicate` until it holds, failing readably after `timeoutMillis`. */
  async poll(predicate: () => boolean, what: string, timeoutMillis = this.waitMillis): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    while (!predicate()) {
      if (Date.now() > deadline)
        throw new ContractFailure(`timed out after ${timeoutMillis} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
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

function preview(texts: string[]): string {
  const shown = texts.slice(0, 20).map((t) => JSON.stringify(t.length > 30 ? `${t.slice(0, 30)}...` : t));
  return `[${shown.join(', ')}${texts.length > 20 ? ', ...' : ''}]`;
}
