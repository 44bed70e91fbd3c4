import type { Observable } from '../api/observable.js';
import { type EventMap, TypedEmitter } from './emitter.js';

/** The listeners of each {@link Observed} object: core emits through these, the object itself only listens. */
const HUBS = new WeakMap<object, Hub<never>>();

/** A `TypedEmitter` whose owner emits from outside it. */
class Hub<Events extends EventMap<Events>> extends TypedEmitter<Events> {
  override emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    super.emit(event, ...args);
  }
}

/**
 * `on` / `once` / `off` (and Node's `addListener` / `removeListener` / `listenerCount`) for the connection and
 * queue classes apps hold, with no `emit` on them: only core emits, through {@link emitOn}.
 */
export abstract class Observed<Events extends EventMap<Events>> implements Observable<Events> {
  constructor() {
    HUBS.set(this, new Hub<Events>() as unknown as Hub<never>);
  }

  /** Calls `listener` on every `event`. */
  on<E extends keyof Events>(event: E, listener: Events[E]): this {
    hubOf(this).on(event, listener);
    return this;
  }

  /** Calls `listener` on the next `event` only. */
  once<E extends keyof Events>(event: E, listener: Events[E]): this {
    hubOf(this).once(event, listener);
    return this;
  }

  /** Removes a listener added with `on` or `once`. */
  off<E extends keyof Events>(event: E, listener: Events[E]): this {
    hubOf(this).off(event, listener);
    return this;
  }

  /** Same as `on`; lets Node's `events.on()` and `events.once()` (with their `signal`) listen. */
  addListener<E extends keyof Events>(event: E, listener: Events[E]): this {
    return this.on(event, listener);
  }

  /** Same as `off`; for Node's `events.on()` and `events.once()`. */
  removeListener<E extends keyof Events>(event: E, listener: Events[E]): this {
    return this.off(event, listener);
  }

  /** How many listeners `event` has. */
  listenerCount<E extends keyof Events>(event: E): number {
    return hubOf(this).listenerCount(event);
  }
}

function hubOf<Events extends EventMap<Events>>(source: Observed<Events>): Hub<Events> {
  return HUBS.get(source) as unknown as Hub<Events>;
}

/**
 * Calls every listener of `event` on `source`, in order; never throws (see `TypedEmitter`).
 * @internal
 */
export function emitOn<Events extends EventMap<Events>, E extends keyof Events>(
  source: Observed<Events>,
  event: E,
  ...args: Parameters<Events[E]>
): void {
  hubOf(source).emit(event, ...args);
}
