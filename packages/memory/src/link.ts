import type { LinkCore, LinkDriver, MqError } from '@mq/core/spi';
import type { MemoryBroker, Session } from './broker.js';

/**
 * The link of a `MemoryConnection`: a session with its in-process broker, open while connected. Its queues reach
 * it through {@link memoryLinkOf}, never through the connection class apps hold.
 */
export class MemoryLink implements LinkDriver {
  /** The broker the connection talks to. */
  readonly broker: MemoryBroker;
  readonly #core: LinkCore;
  #session: Session | undefined;

  constructor(core: LinkCore, broker: MemoryBroker) {
    this.#core = core;
    this.broker = broker;
  }

  /** The live session; undefined unless connected. */
  get session(): Session | undefined {
    return this.#session;
  }

  async open(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const session: Session = {
      onDrop: (reason: MqError) => {
        if (this.#session !== session) return;
        this.#session = undefined;
        this.#core.linkLost(reason);
      },
    };
    this.broker.openSession(session);
    this.#session = session;
  }

  async close(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (session) this.broker.closeSession(session);
  }

  /** Cuts the session as a network failure would. */
  drop(): void {
    if (this.#session) this.broker.drop(this.#session);
  }
}

/** The link of each connection of this backend. */
const LINKS = new WeakMap<object, MemoryLink>();

/** Records `link` as the link of `connection` (its constructor does). */
export function registerLink(connection: object, link: MemoryLink): void {
  LINKS.set(connection, link);
}

/** The link of `connection`, if it is a connection of this backend. */
export function memoryLinkOf(connection: object): MemoryLink | undefined {
  return LINKS.get(connection);
}
