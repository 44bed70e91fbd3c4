import { describe, it } from 'vitest';
import {
  bytesAsText,
  decodesNothing,
  ignoresConcurrency,
  ignoresContentType,
  ignoresOrderingKey,
  invalidRetried,
  oneKeyForAll,
  schemaIgnoredOnSend,
  setConcurrencyDoesNothing,
} from './broken-typed.js';
import { failsExactly } from './evaluate.js';

describe('the codec, schema and concurrency cases catch broken backends', () => {
  it('a backend whose receivers decode nothing fails every round trip of a codec that decodes, and the content-type case', async () => {
    await failsExactly(decodesNothing, [
      'typed.json-round-trip',
      'typed.text-round-trip',
      'typed.custom-codec',
      'typed.content-type-decides',
    ]);
  }, 60_000);

  it("a backend that hands out a 'bytes' payload as text fails bytes-default", async () => {
    await failsExactly(bytesAsText, ['typed.bytes-default']);
  }, 60_000);

  it('a backend that decodes by the queue codec whatever the content type fails content-type-decides', async () => {
    await failsExactly(ignoresContentType, ['typed.content-type-decides']);
  }, 60_000);

  it('a backend whose senders ignore the schema fails schema-refuses-send', async () => {
    await failsExactly(schemaIgnoredOnSend, ['typed.schema-refuses-send']);
  }, 60_000);

  it('a backend that treats invalid messages as handler failures (retried) fails both invalid-payload cases', async () => {
    await failsExactly(invalidRetried, ['typed.invalid-dead-lettered-once', 'typed.invalid-dropped']);
  }, 60_000);

  it('a backend that ignores concurrency fails one-at-a-time and set-concurrency', async () => {
    await failsExactly(ignoresConcurrency, ['concurrency.one-at-a-time', 'concurrency.set-concurrency']);
  }, 60_000);

  it('a backend whose setConcurrency() does nothing fails set-concurrency', async () => {
    await failsExactly(setConcurrencyDoesNothing, ['concurrency.set-concurrency']);
  }, 60_000);

  it('a backend that ignores orderingKey fails both ordering cases', async () => {
    await failsExactly(ignoresOrderingKey, [
      'concurrency.ordering-key-order',
      'concurrency.slow-key-does-not-block',
    ]);
  }, 60_000);

  it('a backend that gives every message one key fails slow-key-does-not-block', async () => {
    await failsExactly(oneKeyForAll, ['concurrency.slow-key-does-not-block']);
  }, 60_000);
});
