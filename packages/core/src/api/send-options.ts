/** Options of one `sendMsg()`: metadata that travels with the message. Every field is validated. */
export interface SendOptions {
  /**
   * Application headers: at most {@link MAX_HEADERS}, names of 1 to 128 characters not starting with `mq-`
   * (mq's own) and not reserved by the backend, values strings; at most {@link MAX_HEADER_BYTES} in all (UTF-8).
   */
  headers?: Readonly<Record<string, string>>;
  /** An id for the message (1 to 255 characters), e.g. for deduplication. */
  messageId?: string;
  /** The id of the message this one answers or belongs with (1 to 255 characters). */
  correlationId?: string;
  /** The payload's MIME type, e.g. `application/json` (1 to 255 characters). */
  contentType?: string;
  /**
   * Where the receiver should send its answer (1 to 255 characters): for apps that run their own reply queues;
   * `request()` sets it itself. AMQP: a queue name (or `amq.rabbitmq.reply-to`); MQTT 5: a topic.
   */
  replyTo?: string;
  /** The broker may drop the message once it has waited this long (0 to 2147483647 ms; MQTT rounds up to whole seconds, at least 1). */
  expirationMillis?: number;
  /**
   * The message's topic, required on a sender with `routing: 'topic'` and refused (`INVALID_ARGUMENT`) on any
   * other: words of `[A-Za-z0-9_-]` (1 to 64 characters) joined by single dots, at most 32 words and 255
   * characters in all; no wildcards.
   * @default undefined
   */
  topic?: string;
}
