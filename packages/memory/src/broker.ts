import { type MqError, topicMatcher } from '@mq/core/spi';
import { errors } from './errors.js';
import { Mailbox, type StoredMeta } from './mailbox.js';

/**
 * A live link from a connection to a broker; the broker calls `onDrop` when it cuts the link.
 * @internal
 */
export interface Session {
  /** Called once when the broker drops the session (stop, or fault injection). */
  onDrop(reason: MqError): void;
}

const brokers = new Map<string, MemoryBroker>();

/**
 * How the reply addresses of requesting senders start: no queue name can (queue names have no `:`).
 * @internal
 */
export const REPLY_PREFIX = 'mq:reply:';

/**
 * An in-process broker: durable unicast mailboxes by name, and fan-out exchanges whose receivers each get a
 * private mailbox. Brokers are found by name (`memory://<name>`); tests can stop, start and cut links.
 */
export class MemoryBroker {
  /** The broker name, as in `memory://<name>`. */
  readonly name: string;
  #running = true;
  readonly #sessions = new Set<Session>();
  readonly #queues = new Map<string, Mailbox>();
  readonly #exchanges = new Map<string, Set<Mailbox>>();
  readonly #spaces = new Map<string, TopicSpace>();
  /** Reply addresses of requesting senders, as RabbitMQ's direct reply-to: no mailbox, gone with their link. */
  readonly #replyAddresses = new Map<string, (payload: Buffer, meta: StoredMeta) => void>();

  private constructor(name: string) {
    this.name = name;
  }

  /** The broker with this name, created (running) on first use. */
  static named(name = 'default'): MemoryBroker {
    let broker = brokers.get(name);
    if (!broker) {
      broker = new MemoryBroker(name);
      brokers.set(name, broker);
    }
    return broker;
  }

  /** True while the broker accepts connections. */
  get running(): boolean {
    return this.#running;
  }

  /** Stops accepting connections and drops every live one; stored unicast messages are kept. */
  stop(): void {
    this.#running = false;
    for (const session of [...this.#sessions]) this.#drop(session, 'broker stopped');
  }

  /** Accepts connections again. */
  start(): void {
    this.#running = true;
  }

  /**
   * Cuts one session's link, as a network failure would.
   * @internal
   */
  drop(session: Session): void {
    this.#drop(session, 'link dropped');
  }

  /** Messages waiting in the unicast queue `name` (0 if it does not exist). */
  depth(name: string): number {
    return this.#queues.get(name)?.depth ?? 0;
  }

  /** Deletes every queue and exchange; for test isolation. */
  reset(): void {
    this.#queues.clear();
    this.#exchanges.clear();
    this.#spaces.clear();
  }

  /**
   * Opens a session; throws `BROKER` when the broker is stopped.
   * @internal
   */
  openSession(session: Session): void {
    if (!this.#running) throw errors.error('BROKER', `broker '${this.name}' is not running`);
    this.#sessions.add(session);
  }

  /**
   * Closes a session.
   * @internal
   */
  closeSession(session: Session): void {
    this.#sessions.delete(session);
  }

  /**
   * True while the session is open.
   * @internal
   */
  isOpen(session: Session): boolean {
    return this.#sessions.has(session);
  }

  /**
   * The durable unicast queue `name`, declared on first use.
   * @internal
   */
  queue(name: string): Mailbox {
    let mailbox = this.#queues.get(name);
    if (!mailbox) {
      mailbox = new Mailbox();
      this.#queues.set(name, mailbox);
    }
    return mailbox;
  }

  /**
   * Publishes to the fan-out exchange `name`: every bound mailbox gets its own copy; none bound drops it.
   * @internal
   */
  fanOut(name: string, payload: Buffer, meta: StoredMeta): void {
    for (const mailbox of this.#exchanges.get(name) ?? []) mailbox.push(Buffer.from(payload), meta);
  }

  /**
   * Binds a new private mailbox to the exchange `name`; returns it (to consume from) and the unbind function.
   * @internal
   */
  bindPrivate(name: string): { mailbox: Mailbox; unbind: () => void } {
    const mailbox = new Mailbox();
    const bound = this.#exchanges.get(name) ?? new Set<Mailbox>();
    bound.add(mailbox);
    this.#exchanges.set(name, bound);
    return {
      mailbox,
      unbind: () => {
        bound.delete(mailbox);
        if (bound.size === 0) this.#exchanges.delete(name);
      },
    };
  }

  /**
   * Publishes to the topic space `space` with `topic`: each group whose patterns match gets one copy (in its
   * durable mailbox), and so does each broadcast receiver whose patterns match; none matching drops it. A
   * message matching several patterns of one binding is still one copy.
   * @internal
   */
  publishTopic(space: string, topic: string, payload: Buffer, meta: StoredMeta): void {
    const bound = this.#spaces.get(space);
    if (!bound) return;
    const stored = meta.topic === topic ? meta : { ...meta, topic };
    for (const binding of bound.groups.values()) {
      if (binding.match(topic)) binding.mailbox.push(Buffer.from(payload), stored);
    }
    for (const binding of bound.receivers) {
      if (binding.match(topic)) binding.mailbox.push(Buffer.from(payload), stored);
    }
  }

  /**
   * The durable mailbox of group `group` in topic space `space`, declared on first use and bound with `patterns`
   * on top of those it had (bindings stay, as an AMQP queue's do).
   * @internal
   */
  topicGroup(space: string, group: string, patterns: readonly string[]): Mailbox {
    const bound = this.#space(space);
    let binding = bound.groups.get(group);
    if (!binding) {
      binding = newBinding(new Mailbox(), patterns);
      bound.groups.set(group, binding);
    } else if (patterns.some((pattern) => !binding!.patterns.includes(pattern))) {
      binding = newBinding(binding.mailbox, [...new Set([...binding.patterns, ...patterns])]);
      bound.groups.set(group, binding);
    }
    return binding.mailbox;
  }

  /**
   * Binds a new private mailbox to topic space `space` with `patterns` (a broadcast receiver); returns it and the
   * unbind function.
   * @internal
   */
  bindTopicPrivate(space: string, patterns: readonly string[]): { mailbox: Mailbox; unbind: () => void } {
    const bound = this.#space(space);
    const binding = newBinding(new Mailbox(), patterns);
    bound.receivers.add(binding);
    return { mailbox: binding.mailbox, unbind: () => bound.receivers.delete(binding) };
  }

  #space(space: string): TopicSpace {
    let bound = this.#spaces.get(space);
    if (!bound) {
      bound = { groups: new Map(), receivers: new Set() };
      this.#spaces.set(space, bound);
    }
    return bound;
  }

  /**
   * Listens for replies to `address` (a sender's reply address); returns what stops listening.
   * @internal
   */
  listenReplies(address: string, listener: (payload: Buffer, meta: StoredMeta) => void): () => void {
    this.#replyAddresses.set(address, listener);
    return () => {
      if (this.#replyAddresses.get(address) === listener) this.#replyAddresses.delete(address);
    };
  }

  /**
   * A reply to `to`: to the sender listening there (in a later microtask, as over a network), dropped when that
   * sender is gone, or, when `to` names no reply address, to the unicast queue of that name.
   * @internal
   */
  sendReply(to: string, payload: Buffer, meta: StoredMeta): void {
    const listener = this.#replyAddresses.get(to);
    if (listener) {
      queueMicrotask(() => {
        if (this.#replyAddresses.get(to) === listener) listener(payload, meta);
      });
      return;
    }
    if (to.startsWith(REPLY_PREFIX)) return;
    this.queue(to).push(payload, meta);
  }

  #drop(session: Session, why: string): void {
    if (!this.#sessions.delete(session)) return;
    session.onDrop(errors.error('BROKER', `broker '${this.name}': ${why}`));
  }
}

/** A mailbox bound to a topic space with patterns. */
interface TopicBinding {
  readonly mailbox: Mailbox;
  readonly patterns: readonly string[];
  readonly match: (topic: string) => boolean;
}

/** What is bound to one topic space: a durable mailbox per group, a private one per broadcast receiver. */
interface TopicSpace {
  readonly groups: Map<string, TopicBinding>;
  readonly receivers: Set<TopicBinding>;
}

function newBinding(mailbox: Mailbox, patterns: readonly string[]): TopicBinding {
  return { mailbox, patterns, match: topicMatcher(patterns) };
}
