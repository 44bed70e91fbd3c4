import type { Message } from '../../api/message.js';

/** How many handlers one receiver runs, and may run, at once. */
interface Slots {
  limit: number;
  running: number;
}

/** A message waiting for its turn, and what starts its handler (a promise while the handler is still at work). */
interface Waiting {
  readonly key: string | undefined;
  readonly slots: Slots;
  readonly start: () => PromiseLike<unknown> | undefined;
}

/**
 * The arrival order of the messages waiting for a handler, and the keys whose handler runs: one per receiver, or
 * one shared by the receivers of a name on one connection that order by key (so that a key's order holds across
 * them: the broker hands a name's messages to its receivers in turn).
 */
class OrderBook {
  waiting: Waiting[] = [];
  readonly busyKeys = new Set<string>();
  #dispatching = false;
  #again = false;

  dispatch(): void {
    // A handler that starts may bring the next delivery at once (an ack on the memory backend): that one is
    // queued behind those of this pass, which another pass then looks at.
    if (this.#dispatching) {
      this.#again = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#again = false;
        this.#pass();
      } while (this.#again);
    } finally {
      this.#dispatching = false;
    }
  }

  #pass(): void {
    if (this.waiting.length === 0) return;
    const queue = this.waiting;
    this.waiting = [];
    const left: Waiting[] = [];
    // Keys seen waiting in this pass: a later message of a key whose earlier one still waits must not overtake it.
    const blocked = new Set<string>();
    for (const entry of queue) {
      const { key, slots } = entry;
      const free =
        slots.running < slots.limit && (key === undefined || (!this.busyKeys.has(key) && !blocked.has(key)));
      if (free) {
        this.#begin(entry);
        continue;
      }
      if (key !== undefined) blocked.add(key);
      left.push(entry);
    }
    this.waiting = this.waiting.length === 0 ? left : [...left, ...this.waiting];
  }

  #begin({ key, slots, start }: Waiting): void {
    slots.running += 1;
    if (key !== undefined) this.busyKeys.add(key);
    let pending: PromiseLike<unknown> | undefined;
    try {
      pending = start();
    } catch {
      pending = undefined;
    }
    const done = (): void => {
      slots.running -= 1;
      if (key !== undefined) this.busyKeys.delete(key);
      this.dispatch();
    };
    // Finished at once: the slot is freed after this pass, so that one pass never starts more than the limit.
    if (pending === undefined) queueMicrotask(done);
    else pending.then(done, done);
  }
}

/** The shared order books of keyed receivers, per connection and name. */
const SHARED = new WeakMap<object, Map<string, OrderBook>>();

function sharedBook(connection: object, name: string): OrderBook {
  let books = SHARED.get(connection);
  if (!books) {
    books = new Map();
    SHARED.set(connection, books);
  }
  let book = books.get(name);
  if (!book) {
    book = new OrderBook();
    books.set(name, book);
  }
  return book;
}

/**
 * A receiver's `concurrency` and `orderingKey`: at most `limit` of its handlers at once, the other messages
 * waiting in arrival order; messages of one key one at a time, in order (across the receivers of its name on its
 * connection), while other keys go ahead. Nothing here settles messages: those waiting stay unacked (and count
 * against `prefetch`) until their turn.
 */
export class ConcurrencyGate {
  readonly #slots: Slots;
  readonly #keyOf: ((message: Message<unknown>) => string | undefined) | undefined;
  readonly #book: OrderBook;

  /** `limit` undefined: no limit (only the order of each key); keyed gates share their order on `connection`. */
  constructor(
    limit: number | undefined,
    keyOf: ((message: Message<unknown>) => string | undefined) | undefined,
    connection: object,
    name: string,
  ) {
    this.#slots = { limit: limit ?? Number.POSITIVE_INFINITY, running: 0 };
    this.#keyOf = keyOf;
    this.#book = keyOf ? sharedBook(connection, name) : new OrderBook();
  }

  /** Handlers of this receiver running now. */
  get running(): number {
    return this.#slots.running;
  }

  /** A new limit, from now on: more handlers start at once when it grew, none is stopped when it shrank. */
  setLimit(limit: number): void {
    this.#slots.limit = limit;
    this.#book.dispatch();
  }

  /** `message` takes its turn: `start` runs now or once its key and a slot are free. */
  enter(message: Message<unknown>, start: () => PromiseLike<unknown> | undefined): void {
    this.#book.waiting.push({ key: this.#key(message), slots: this.#slots, start });
    this.#book.dispatch();
  }

  /** Forgets this receiver's messages waiting (it closes: they stay unacked, for the broker to hand out again). */
  clear(): void {
    const slots = this.#slots;
    this.#book.waiting = this.#book.waiting.filter((entry) => entry.slots !== slots);
    this.#book.dispatch();
  }

  #key(message: Message<unknown>): string | undefined {
    if (!this.#keyOf) return undefined;
    try {
      const key = this.#keyOf(message);
      return typeof key === 'string' ? key : undefined;
    } catch {
      return undefined;
    }
  }
}
