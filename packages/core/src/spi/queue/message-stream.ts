import type { MqError } from '../../api/errors.js';
import type { Message } from '../../api/message.js';
import type { Status } from '../../api/status.js';
import { needsAttention, type PackageErrors } from '../errors.js';

/** The receiver side a {@link MessageStream} drives. */
export interface StreamSource {
  /** The package's errors. */
  readonly errors: PackageErrors;
  /** The queue name. */
  readonly name: string;
  /** Listens for the queue's status changes and errors; returns what stops listening. */
  subscribe(onStatus: (status: Status) => void, onError: (error: MqError) => void): () => void;
  /** Closes the receiver. */
  close(): Promise<void>;
  /** The loop took `message` (its ack deadline starts now). */
  taken(message: Message): void;
  /** The stream ended: the receiver may take a handler or another `messages()` once closed. */
  ended(): void;
}

/**
 * A receiver's messages as an async iterator. Messages wait in arrival order until the loop asks for them
 * (the broker's prefetch bounds how many can wait unacked); the end comes from the loop (`return()`), the
 * signal, a queue error that retrying cannot fix, or the receiver closing. The first three close the receiver.
 */
export class MessageStream implements AsyncIterableIterator<Message> {
  readonly #source: StreamSource;
  readonly #signal: AbortSignal | undefined;
  readonly #unsubscribe: () => void;
  readonly #waiting: Message[] = [];
  /** `next()` calls waiting for a message, in call order (a `for await` loop makes one at a time). */
  readonly #readers: Array<{
    resolve: (result: IteratorResult<Message>) => void;
    reject: (error: unknown) => void;
  }> = [];
  /** `open` until the end; then the error to throw once (if any), then `done`. */
  #state: { phase: 'open' } | { phase: 'failed'; error: unknown } | { phase: 'done' } = { phase: 'open' };
  /** Settles once the receiver closed after the end (at once when it was closed already). */
  #closed: Promise<void> = Promise.resolve();

  /** Starts listening on `source` and `signal` (already aborted: the stream starts ended); `push` takes its messages. */
  constructor(source: StreamSource, signal: AbortSignal | undefined) {
    this.#source = source;
    this.#signal = signal;
    this.#unsubscribe = source.subscribe(this.#onStatus, this.#onError);
    if (signal?.aborted) this.#end(this.#aborted(), false);
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** The handler's side: a message for the loop. */
  readonly push = (message: Message): void => {
    if (this.#state.phase !== 'open') return;
    const reader = this.#readers.shift();
    if (reader) {
      this.#source.taken(message);
      reader.resolve({ value: message, done: false });
    } else this.#waiting.push(message);
  };

  /** The next message, or the end. */
  next(): Promise<IteratorResult<Message>> {
    const waiting = this.#waiting.shift();
    if (waiting) {
      this.#source.taken(waiting);
      return Promise.resolve({ value: waiting, done: false });
    }
    const state = this.#state;
    // The end is told once the receiver has closed, so that code after the loop finds it closed.
    if (state.phase === 'failed') {
      this.#state = { phase: 'done' };
      return this.#closed.then(() => Promise.reject(state.error));
    }
    if (state.phase === 'done') return this.#closed.then(() => ({ value: undefined, done: true }));
    return new Promise((resolve, reject) => {
      this.#readers.push({ resolve, reject });
    });
  }

  /** Ends the iteration (`break`): closes the receiver, leaving what was not acked to be redelivered. */
  async return(): Promise<IteratorResult<Message>> {
    this.#end(undefined);
    await this.#closed;
    return { value: undefined, done: true };
  }

  /** Ends the iteration with `error` and closes the receiver. */
  async throw(error?: unknown): Promise<IteratorResult<Message>> {
    this.#end(undefined);
    await this.#closed;
    throw error;
  }

  /** The iterator itself. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }

  readonly #onStatus = (status: Status): void => {
    if (status === 'closed') this.#end(undefined, false);
  };

  readonly #onError = (error: MqError): void => {
    if (needsAttention(error)) this.#end(error);
  };

  readonly #onAbort = (): void => {
    this.#end(this.#aborted());
  };

  #aborted(): MqError {
    return this.#source.errors.error('ABORTED', `messages() of '${this.#source.name}' was aborted`, {
      cause: this.#signal?.reason,
    });
  }

  /** Ends once: messages not taken yet are left unacked (the receiver's close hands them back). */
  #end(error: unknown, close = true): void {
    if (this.#state.phase !== 'open') return;
    this.#waiting.length = 0;
    this.#unsubscribe();
    this.#source.ended();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    // Errors of this close are the queue's own `error` events.
    if (close) this.#closed = this.#source.close().catch(() => {});
    this.#state = error === undefined ? { phase: 'done' } : { phase: 'failed', error };
    // The first waiting reader learns how it ended (the error, once); the others that it is done.
    for (const reader of this.#readers.splice(0)) this.next().then(reader.resolve, reader.reject);
  }
}
