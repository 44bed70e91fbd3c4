import {
  BaseConnection,
  BaseQueue,
  type DeliveredMessage,
  type LinkCore,
  type PendingSend,
  packageErrors,
  type QueueCore,
  resolveQueueOptions,
  type SendOptions,
  type Traits,
} from '../src/spi/index.js';

/** The errors of the test backend. */
const TEST_ERRORS = packageErrors('mq/test');

/** What the scripted backend can do: everything but metadata (a test asks for it with other traits). */
export const TEST_TRAITS: Traits = Object.freeze({
  broadcast: true,
  broadcastIsolated: true,
  nackRequeue: true,
  redeliverUnacked: true,
  retainUnicast: true,
  prefetch: true,
});

/** A minimal connection class for unit tests of core helpers (its link is never opened). */
export class MemoryLikeConnection extends BaseConnection {
  constructor() {
    super({
      errors: TEST_ERRORS,
      reconnectMillis: 1000,
      reconnectMaxMillis: 30_000,
      link: () => ({ open: async () => {}, close: async () => {} }),
    });
  }
}

/** A promise the test settles by hand. */
export interface Step<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A fresh {@link Step}. */
export function step<T = void>(): Step<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The scripted link: each `open()` is a {@link Step}, and `core` what the connection gave it. */
class LinkScript {
  readonly opens: Step[] = [];
  closes = 0;
  core: LinkCore | undefined;
}

/**
 * A connection whose every link operation is a {@link Step} the test settles: it decides when (and whether) an
 * attempt succeeds, and when a link drops. Nothing here touches the network or real time.
 */
export class ScriptedConnection extends BaseConnection {
  readonly #script: LinkScript;

  constructor(reconnectMillis = 100, reconnectMaxMillis = 800, addresses?: readonly string[]) {
    const script = new LinkScript();
    super({
      errors: TEST_ERRORS,
      reconnectMillis,
      reconnectMaxMillis,
      ...(addresses ? { addresses } : {}),
      link: (core) => {
        script.core = core;
        return {
          open: () => {
            const open = step();
            script.opens.push(open);
            return open.promise;
          },
          close: async () => {
            script.closes += 1;
          },
        };
      },
    });
    this.#script = script;
  }

  /** The pending and past link `open()` calls, in order. */
  get opens(): readonly Step[] {
    return this.#script.opens;
  }

  /** How many times the link's `close()` ran. */
  get closes(): number {
    return this.#script.closes;
  }

  /** The latest link `open()` call. */
  get lastOpen(): Step {
    const open = this.#script.opens.at(-1);
    if (!open) throw new Error('openLink() was never called');
    return open;
  }

  /** Drops the open link, as a broker or network failure would. */
  drop(error: Error = new Error('link dropped')): void {
    this.#script.core?.linkLost(error);
  }
}

/** The scripted queue driver's record: its `open()` steps, the sends it was handed, each call in order. */
class QueueScript {
  readonly opens: Step[] = [];
  readonly sends: PendingSend[] = [];
  readonly sentOptions: Array<SendOptions | undefined> = [];
  readonly calls: string[] = [];
  core: QueueCore | undefined;
}

/** A queue whose `open()` and sends are {@link Step}s the test settles. */
export class ScriptedQueue extends BaseQueue {
  readonly #script: QueueScript;

  constructor(
    connection: ScriptedConnection,
    options: Record<string, unknown> = {},
    traits: Traits = TEST_TRAITS,
  ) {
    const script = new QueueScript();
    super({
      errors: TEST_ERRORS,
      options: resolveQueueOptions(
        TEST_ERRORS,
        { name: 'q', isRecv: false, reconnectMillis: 100, sendTimeoutMillis: 1000, ...options },
        {},
      ).options,
      connection,
      traits,
      driver: (core) => {
        script.core = core;
        return {
          open: () => {
            script.calls.push('open');
            const open = step();
            script.opens.push(open);
            return open.promise;
          },
          publish: (_payload, send, sendOptions) => {
            script.sends.push(send);
            script.sentOptions.push(sendOptions);
          },
          stopReceiving: async () => {
            script.calls.push('stopReceiving');
          },
          release: async () => {
            script.calls.push('release');
          },
          linkDown: () => {
            script.calls.push('onLinkDown');
          },
        };
      },
    });
    this.#script = script;
  }

  /** The pending and past `open()` calls. */
  get opens(): readonly Step[] {
    return this.#script.opens;
  }

  /** Sends handed to the driver, in order. */
  get sends(): readonly PendingSend[] {
    return this.#script.sends;
  }

  /** The send options handed to the driver with each send, in order. */
  get sentOptions(): ReadonlyArray<SendOptions | undefined> {
    return this.#script.sentOptions;
  }

  /** Each driver call, in order: `open`, `onLinkDown`, `stopReceiving`, `release`. */
  get calls(): readonly string[] {
    return this.#script.calls;
  }

  /** The latest `open()` call. */
  get lastOpen(): Step {
    const open = this.#script.opens.at(-1);
    if (!open) throw new Error('open() was never called');
    return open;
  }

  /** Hands core one received message, as the driver would. */
  deliver(message: DeliveredMessage): void {
    this.#script.core?.deliver(message);
  }

  /** The broker-side resources die while the connection stays up (a channel closed by the broker). */
  lose(error: Error = new Error('channel closed')): void {
    this.#script.core?.resourceLost(error);
  }
}

/** Lets every pending promise reaction run (a few turns of the microtask queue). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}
