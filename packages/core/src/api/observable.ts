/** Typed `on` / `once` / `off`, shared by connections and queues. */
export interface Observable<Events> {
  /** Calls `listener` on every `event`. */
  on<E extends keyof Events>(event: E, listener: Events[E]): this;
  /** Calls `listener` on the next `event` only. */
  once<E extends keyof Events>(event: E, listener: Events[E]): this;
  /** Removes a listener. */
  off<E extends keyof Events>(event: E, listener: Events[E]): this;
}
