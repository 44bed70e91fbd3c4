import {
  BaseConnection,
  BaseQueue,
  type PendingSend,
  packageErrors,
  resolveQueueOptions,
  type SendOptions,
} from '../src/spi/index.js';

/** The errors of the test backend. */
const TEST_ERRORS = packageErrors('mq/test');

/** A minimal connection class for unit tests of core helpers (its link is never opened). */
export class MemoryLikeConnection extends BaseConnection {
  constructor() {
    super({ reconnectMillis: 1000, reconnectMaxMillis: 30_000 });
  }

  protected override async openLink(): Promise<void> {}

  protected override async closeLink(): Promise<void> {}
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

/**
 * A connection whose every link operation is a {@link Step} the test settles: it decides when (and whether) an
 * attempt succeeds, and when a link drops. Nothing here touches the network or real time.
 */
export class ScriptedConnection extends BaseConnection {
  /** The pending and past `openLink()` calls, in order. */
  readonly opens: Step[] = [];
  /** How many times `closeLink()` ran. */
  closes = 0;

  constructor(reconnectMillis = 100, reconnectMaxMillis = 800, addresses?: readonly string[]) {
    super({ reconnectMillis, reconnectMaxMillis, ...(addresses ? { addresses } : {}) });
  }

  /** The latest `openLink()` call. */
  get lastOpen(): Step {
    const open = this.opens.at(-1);
    if (!open) throw new Error('openLink() was never called');
    return open;
  }

  /** Drops the open link, as a broker or network failure would. */
  drop(error: Error = new Error('link dropped')): void {
    this.notifyLinkLost(error);
  }

  protected override openLink(): Promise<void> {
    const open = step();
    this.opens.push(open);
    return open.promise;
  }

  protected override async closeLink(): Promise<void> {
    this.closes += 1;
  }
}

/** A queue whose `open()` and sends are {@link Step}s the test settles. */
export class ScriptedQueue extends BaseQueue {
  /** The pending and past `open()` calls. */
  readonly opens: Step[] = [];
  /** Sends handed to the backend, in order. */
  readonly sends: PendingSend[] = [];
  /** Each hook call, in order: `open`, `onLinkDown`, `stopReceiving`, `release`. */
  readonly calls: string[] = [];

  constructor(connection: ScriptedConnection, options: Record<string, unknown> = {}) {
    super(
      TEST_ERRORS,
      resolveQueueOptions(
        TEST_ERRORS,
        { name: 'q', isRecv: false, reconnectMillis: 100, sendTimeoutMillis: 1000, ...options },
        {},
      ).options,
      connection,
    );
  }

  /** The latest `open()` call. */
  get lastOpen(): Step {
    const open = this.opens.at(-1);
    if (!open) throw new Error('open() was never called');
    return open;
  }

  /** The broker-side resources die while the connection stays up (a channel closed by the broker). */
  lose(error: Error = new Error('channel closed')): void {
    this.notifyResourceLost(error);
  }

  protected override open(): Promise<void> {
    this.calls.push('open');
    const open = step();
    this.opens.push(open);
    return open.promise;
  }

  /** The send options handed to the backend with each send, in order. */
  readonly sentOptions: Array<SendOptions | undefined> = [];

  protected override publish(_payload: Uint8Array, send: PendingSend, options?: SendOptions): undefined {
    this.sends.push(send);
    this.sentOptions.push(options);
    return undefined;
  }

  protected override async stopReceiving(): Promise<void> {
    this.calls.push('stopReceiving');
  }

  protected override async release(): Promise<void> {
    this.calls.push('release');
  }

  protected override onLinkDown(): void {
    this.calls.push('onLinkDown');
  }
}

/** Lets every pending promise reaction run (a few turns of the microtask queue). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}
