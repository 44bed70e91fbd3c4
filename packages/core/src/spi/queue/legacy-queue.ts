import type { Connection } from '../../api/connection.js';
import type { MqError } from '../../api/errors.js';
import type { Message } from '../../api/message.js';
import type { SendOptions } from '../../api/send-options.js';
import type { PackageErrors } from '../errors.js';
import type { DeliveredMessage } from '../message.js';
import type { ResolvedQueueOptions } from '../options/queue-options.js';
import type { Traits } from '../traits.js';
import { BaseQueue } from './base-queue.js';
import type { PendingSend } from './in-flight.js';
import type { QueueHost } from './lifecycle.js';
import type { QueueCore, QueueDriver } from './queue-driver.js';

/**
 * Transitional: the hooks-on-the-class SPI (protected `open()`, `publish()`, ...) on top of the driver-based
 * `BaseQueue`, while the backends move to drivers one by one. Removed once none extends it.
 * @deprecated Implement a `QueueDriver` and extend `BaseQueue`.
 */
export abstract class LegacyBaseQueue extends BaseQueue {
  #core: QueueCore | undefined;
  readonly #backendErrors: PackageErrors;

  /** `options` must already be validated (see `resolveQueueOptions`). */
  protected constructor(errors: PackageErrors, options: ResolvedQueueOptions, host: QueueHost) {
    const self: { queue?: LegacyBaseQueue } = {};
    const of = (): LegacyBaseQueue => self.queue as LegacyBaseQueue;
    const traits: Traits = {
      broadcast: true,
      broadcastIsolated: true,
      nackRequeue: true,
      redeliverUnacked: true,
      retainUnicast: true,
      prefetch: true,
      get metadata() {
        return of().carriesMetadata;
      },
      get deadLetter() {
        return of().deadLetters;
      },
      get requeuesBehind() {
        return of().requeuesBehind;
      },
      get reservedHeaders() {
        return [...of().reservedHeaders];
      },
      get reasons() {
        const strip = (text: string): string => text.replace(/^: /, '');
        const queue = of();
        return {
          ...(queue.metadataHint ? { metadata: strip(queue.metadataHint) } : {}),
          ...(queue.deadLetterHint ? { deadLetter: strip(queue.deadLetterHint) } : {}),
        };
      },
    };
    super({
      errors,
      options,
      connection: host as Connection,
      traits,
      driver: (core) => {
        const queue = of();
        queue.#core = core;
        return queue.#driver();
      },
    });
    self.queue = this;
    this.#backendErrors = errors;
  }

  #driver(): QueueDriver {
    return {
      open: () => this.open(),
      publish: (payload, send, options) => this.publish(payload, send, options),
      republish: (to, message, send, options) => this.republish(to, message, send, options),
      stopReceiving: () => this.stopReceiving(),
      release: () => this.release(),
      linkDown: () => this.onLinkDown(),
    };
  }

  /** See `QueueDriver.open`. */
  protected abstract open(): Promise<void>;
  /** See `QueueDriver.publish`. */
  protected abstract publish(payload: Uint8Array, send: PendingSend, options?: SendOptions): void;
  /** See `Traits.metadata`. */
  protected get carriesMetadata(): boolean {
    return false;
  }
  /** See `Traits.reasons`. */
  protected get metadataHint(): string {
    return '';
  }
  /** See `Traits.reservedHeaders`. */
  protected get reservedHeaders(): ReadonlySet<string> {
    return NO_RESERVED_HEADERS;
  }
  /** See `Traits.requeuesBehind`. */
  protected get requeuesBehind(): boolean {
    return false;
  }
  /** See `Traits.deadLetter`. */
  protected get deadLetters(): boolean {
    return false;
  }
  /** See `Traits.reasons`. */
  protected get deadLetterHint(): string {
    return '';
  }
  /** See `QueueDriver.republish`. */
  protected republish(
    to: string | undefined,
    _message: Message,
    send: PendingSend,
    _options: SendOptions,
  ): void {
    send.reject(
      this.#backendErrors.error('UNSUPPORTED', `queue '${this.name}' cannot republish to ${to ?? 'itself'}`),
    );
  }
  /** See `QueueCore.failPendingSends`. */
  protected failPendingSends(error: MqError): void {
    this.#core?.failPendingSends(error);
  }
  /** See `QueueDriver.stopReceiving`. */
  protected async stopReceiving(): Promise<void> {}
  /** See `QueueDriver.release`. */
  protected abstract release(): Promise<void>;
  /** See `QueueDriver.linkDown`. */
  protected onLinkDown(): void {}
  /** See `QueueCore.deliver`. */
  protected deliver(incoming: DeliveredMessage): void {
    this.#core?.deliver(incoming);
  }
  /** See `QueueCore.resourceLost`. */
  protected notifyResourceLost(error: unknown): void {
    this.#core?.resourceLost(error);
  }
  /** See `QueueCore.reportError`. */
  protected reportError(error: MqError): void {
    this.#core?.reportError(error);
  }
}

const NO_RESERVED_HEADERS: ReadonlySet<string> = new Set();
