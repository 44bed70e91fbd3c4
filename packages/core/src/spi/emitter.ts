import { coreErrors } from './core-errors.js';
import { describeValue } from './describe.js';
import { errorText } from './errors.js';

/** A map from event name to listener signature. */
export type EventMap<Events> = { [E in keyof Events]: (...args: never[]) => void };

/**
 * A small typed event emitter. Unlike Node's `EventEmitter`, an `error` with no listener is dropped instead of
 * thrown, and a listener that throws is reported as a process warning instead of unwinding into the library:
 * no event can crash the host process.
 */
export class TypedEmitter<Events extends EventMap<Events>> {
  readonly #listeners = new Map<keyof Events, Array<{ fn: Events[keyof Events]; once: boolean }>>();

  /** Calls `listener` on every `event`. */
  on<E extends keyof Events>(event: E, listener: Events[E]): this {
    this.#add(event, listener, false);
    return this;
  }

  /** Calls `listener` on the next `event` only. */
  once<E extends keyof Events>(event: E, listener: Events[E]): this {
    this.#add(event, listener, true);
    return this;
  }

  /** Removes a listener added with `on` or `once`. */
  off<E extends keyof Events>(event: E, listener: Events[E]): this {
    checkEventName(event);
    const list = this.#listeners.get(event);
    if (!list) return this;
    const index = list.findIndex((entry) => entry.fn === listener);
    if (index >= 0) list.splice(index, 1);
    return this;
  }

  /**
   * Same as `on`; lets Node's `events.on()` and `events.once()` (with their `signal`) listen, which add and
   * remove listeners through `addListener` / `removeListener`.
   */
  addListener<E extends keyof Events>(event: E, listener: Events[E]): this {
    return this.on(event, listener);
  }

  /** Same as `off`; for Node's `events.on()` and `events.once()`. */
  removeListener<E extends keyof Events>(event: E, listener: Events[E]): this {
    return this.off(event, listener);
  }

  /** How many listeners `event` has. */
  listenerCount<E extends keyof Events>(event: E): number {
    checkEventName(event);
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` in order; never throws. */
  protected emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return;
    for (const entry of [...list]) {
      if (entry.once) this.off(event, entry.fn as Events[E]);
      try {
        (entry.fn as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (error) {
        process.emitWarning(
          `[mq/core] a '${String(event)}' listener threw: ${describe(error)}`,
          'MqListenerWarning',
        );
      }
    }
  }

  /** Drops every listener. */
  protected removeAllListeners(): void {
    this.#listeners.clear();
  }

  #add<E extends keyof Events>(event: E, fn: Events[E], once: boolean): void {
    checkEventName(event);
    if (typeof fn !== 'function') {
      throw coreErrors.argument(
        `listener for '${String(event)}' must be a function, got ${describeValue(fn)}`,
      );
    }
    const list = this.#listeners.get(event) ?? [];
    list.push({ fn, once });
    this.#listeners.set(event, list);
  }
}

/**
 * An event name is a string or a symbol: anything else (an object without prototype, a revoked proxy) would be a
 * key no event is ever emitted under, and could not even be named in a message.
 */
function checkEventName(event: unknown): void {
  if (typeof event !== 'string' && typeof event !== 'symbol') {
    throw coreErrors.argument(
      `event must be an event name such as 'status' or 'error', got ${describeValue(event)}`,
    );
  }
}

/** The stack or message of what a listener threw, even of a value that throws when looked at. */
function describe(error: unknown): string {
  try {
    return error instanceof Error ? (error.stack ?? error.message) : String(error);
  } catch {
    return errorText(error);
  }
}
