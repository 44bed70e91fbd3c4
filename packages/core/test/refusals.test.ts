import { describe, expect, it } from 'vitest';
import { MqError, narrowTraits, type Traits } from '../src/spi/index.js';
import { flush, ScriptedConnection, ScriptedQueue, TEST_TRAITS } from './fixtures.js';

/** The error `make` throws: an `MqError` with `code`. */
function thrown(make: () => unknown, code: string): MqError {
  let error: unknown;
  try {
    make();
  } catch (caught) {
    error = caught;
  }
  expect(MqError.hasCode(error, code as never), `expected ${code}, got ${String(error)}`).toBe(true);
  return error as MqError;
}

describe('BaseQueue refuses what the traits rule out, in its constructor', () => {
  const conn = new ScriptedConnection();

  it('a broadcast queue, where broadcast is false', () => {
    const unicastOnly: Traits = { ...TEST_TRAITS, broadcast: false };
    for (const isRecv of [false, true]) {
      const error = thrown(
        () => new ScriptedQueue(conn, { isRecv, broadcast: true }, unicastOnly),
        'UNSUPPORTED',
      );
      expect(error.message).toBe(
        '[mq/test] broadcast queues are not supported by this backend (capability broadcast is false): use a unicast queue',
      );
    }
    expect(new ScriptedQueue(conn, { isRecv: false }, unicastOnly).status).toBe('closed');
  });

  it('maxDeliveries, where deliveries are not counted (absent reads as false)', () => {
    thrown(() => new ScriptedQueue(conn, { isRecv: true, maxDeliveries: 3 }, TEST_TRAITS), 'UNSUPPORTED');
    const counting = { ...TEST_TRAITS, countsDeliveries: true };
    expect(new ScriptedQueue(conn, { isRecv: true, maxDeliveries: 3 }, counting).isRecv).toBe(true);
  });

  it('deadLetter, where there are no dead-letter queues, saying why when the traits were narrowed with a reason', () => {
    const full: Traits = { ...TEST_TRAITS, countsDeliveries: true, deadLetter: true };
    const narrowed = narrowTraits(full, { deadLetter: 'this protocol cannot say why' });
    const options = { isRecv: true, maxDeliveries: 3, deadLetter: 'q.dead' };
    expect(new ScriptedQueue(conn, options, full).status).toBe('closed');
    expect(thrown(() => new ScriptedQueue(conn, options, narrowed), 'UNSUPPORTED').message).toBe(
      "[mq/test] queue 'q' cannot move messages to a dead-letter queue (deadLetter 'q.dead'): this protocol cannot say why",
    );
  });

  it('narrowTraits only takes capabilities away, keeping the rest and the reasons given before', () => {
    const base: Traits = { ...TEST_TRAITS, metadata: true, reasons: { broadcast: 'b' } };
    const narrowed = narrowTraits(base, { metadata: 'm' });
    expect(narrowed).toMatchObject({
      ...TEST_TRAITS,
      metadata: false,
      reasons: { broadcast: 'b', metadata: 'm' },
    });
    expect(Object.isFrozen(narrowed)).toBe(true);
    expect(base.metadata).toBe(true);
  });
});

describe('a second receiver of one name on one connection, where receivers cannot share it', () => {
  it('is refused at connect() while the first is open, and accepted once the first has closed', async () => {
    const conn = new ScriptedConnection();
    const traits: Traits = {
      ...TEST_TRAITS,
      sameConnectionReceivers: false,
      reasons: { sameConnectionReceivers: 'the protocol cannot tell them apart' },
    };
    const first = new ScriptedQueue(conn, { isRecv: true }, traits);
    first.setMsgHandler(() => {});
    first.connect();
    const second = new ScriptedQueue(conn, { isRecv: true }, traits);
    second.setMsgHandler(() => {});
    expect(thrown(() => second.connect(), 'UNSUPPORTED').message).toBe(
      "[mq/test] this connection already has a receiver for 'q': the protocol cannot tell them apart: use one connection per receiver of the same name",
    );
    expect(second.status).toBe('closed');
    // Another connection, or a sender of the name, is no second receiver.
    const elsewhere = new ScriptedQueue(new ScriptedConnection(), { isRecv: true }, traits);
    elsewhere.setMsgHandler(() => {});
    elsewhere.connect();
    new ScriptedQueue(conn, { isRecv: false }, traits).connect();
    await Promise.all([first.close(), elsewhere.close(), flush()]);
    second.connect();
    expect(second.status).toBe('connecting');
    await second.close();
  });
});
