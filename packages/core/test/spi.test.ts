import { describe, expect, it } from 'vitest';
import {
  type Backend,
  defineBackend,
  MqError,
  ownConnection,
  packageErrors,
  type Queue,
  SPI_VERSION,
  selectBackend,
} from '../src/spi/index.js';
import { MemoryLikeConnection } from './fixtures.js';

describe('ownConnection', () => {
  it('returns a connection of the backend own class', () => {
    const connection = new MemoryLikeConnection();
    expect(ownConnection(packageErrors('mq/x'), connection, MemoryLikeConnection)).toBe(connection);
  });

  it('rejects another backend connection with INVALID_OPTIONS naming the class', () => {
    let error: unknown;
    try {
      ownConnection(packageErrors('mq/x'), {} as never, MemoryLikeConnection);
    } catch (e) {
      error = e;
    }
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toBe(
      '[mq/x] connection must be a MemoryLikeConnection made by this backend, got an object',
    );
  });
});

describe('defineBackend', () => {
  const capabilities = {
    broadcast: true,
    broadcastIsolated: true,
    nackRequeue: true,
    redeliverUnacked: true,
    retainUnicast: true,
    prefetch: true,
  };
  const made: unknown[] = [];
  const base: Backend = {
    spiVersion: SPI_VERSION,
    name: '@acme/mq-x',
    schemes: ['x'],
    capabilities,
    createConnection: () => new MemoryLikeConnection(),
    createQueue(options: unknown) {
      made.push(options);
      return {} as Queue;
    },
  };

  it('accepts a backend written before the optional capabilities existed, and leaves them absent (read as false)', () => {
    const backend = defineBackend(base);
    expect(backend.capabilities.sameConnectionReceivers).toBeUndefined();
    expect(Object.isFrozen(backend.capabilities)).toBe(true);
  });

  it('rejects an optional capability that is not a boolean, naming it', () => {
    let error: unknown;
    try {
      defineBackend({ ...base, capabilities: { ...capabilities, sameConnectionReceivers: 'yes' as never } });
    } catch (e) {
      error = e;
    }
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain(
      'backend.capabilities.sameConnectionReceivers must be a boolean',
    );
  });

  it('refuses a descriptor of SPI version 1 (hooks on the classes) with UNSUPPORTED naming both versions', () => {
    let error: unknown;
    try {
      defineBackend({ ...base, spiVersion: 1 as never });
    } catch (e) {
      error = e;
    }
    expect(MqError.hasCode(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toBe(
      '[mq/core] backend @acme/mq-x speaks SPI version 1, this @mq/core speaks 2',
    );
  });

  it('leaves createQueue as the backend wrote it: refusing is the queue constructor own job, whoever constructs', () => {
    made.length = 0;
    const backend = defineBackend({ ...base, capabilities: { ...capabilities, broadcast: false } });
    backend.createQueue({ name: 'q', isRecv: true, broadcast: true }, new MemoryLikeConnection());
    expect(made).toEqual([{ name: 'q', isRecv: true, broadcast: true }]);
  });

  it('keeps every optional capability it is given, the latest ones included', () => {
    const optional = {
      sameConnectionReceivers: true,
      multipleAddresses: false,
      metadata: true,
      deadLetter: false,
      countsDeliveries: true,
      movesExactlyOnce: false,
      retriesBehind: true,
      broadcastRedelivery: false,
    };
    const backend = defineBackend({ ...base, capabilities: { ...capabilities, ...optional } });
    expect(backend.capabilities).toEqual({ ...capabilities, ...optional });
  });

  it('keeps only the capabilities of the traits it is given', () => {
    const backend = defineBackend({
      ...base,
      capabilities: { ...capabilities, requeuesBehind: true, reasons: { broadcast: 'why' } } as never,
    });
    expect(backend.capabilities).toEqual(capabilities);
  });
});

describe('selectBackend', () => {
  const make = (name: string, schemes: string[]): Backend =>
    ({ name, schemes, spiVersion: SPI_VERSION }) as unknown as Backend;
  const x = make('@acme/x', ['x', 'xs']);
  const y = make('@acme/y', ['y']);

  it('picks the backend of a URI, and of an array whose URIs all need it', () => {
    expect(selectBackend('x://h', [y, x])).toBe(x);
    expect(selectBackend(['x://a', 'xs://b'], [y, x])).toBe(x);
  });

  it('refuses an array whose URIs need different backends, naming them', () => {
    let error: unknown;
    try {
      selectBackend(['x://a', 'y://b'], [x, y]);
    } catch (e) {
      error = e;
    }
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toBe(
      '[mq/core] uri[1] is served by @acme/y, uri[0] by @acme/x: every URI of a connection must be for one backend',
    );
  });

  it('says which package to install for a well-known scheme nobody serves', () => {
    let error: unknown;
    try {
      selectBackend(['amqp://a'], [x]);
    } catch (e) {
      error = e;
    }
    expect(MqError.hasCode(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toContain('install @mq/amqp');
  });
});
