import type { QueueHealth } from '../../api/health.js';

/** A queue as its connection sees it. */
export interface AttachedQueue {
  /** The queue name. */
  readonly name: string;
  /** True for a receiver. */
  readonly isRecv: boolean;
  /** The queue's health, for `connection.health()`. */
  health(): QueueHealth;
  /** Closes the queue. */
  close(): Promise<void>;
}

/** The open queues of each connection: closing a connection closes them first. Core-internal, never on the classes. */
const ATTACHED = new WeakMap<object, Set<AttachedQueue>>();

/** A queue opened (`connect()`) on `connection`. */
export function attachQueue(connection: object, queue: AttachedQueue): void {
  let queues = ATTACHED.get(connection);
  if (!queues) {
    queues = new Set();
    ATTACHED.set(connection, queues);
  }
  queues.add(queue);
}

/** A queue closed. */
export function detachQueue(connection: object, queue: AttachedQueue): void {
  ATTACHED.get(connection)?.delete(queue);
}

/** The queues open on `connection`. */
export function queuesOf(connection: object): readonly AttachedQueue[] {
  return [...(ATTACHED.get(connection) ?? [])];
}
