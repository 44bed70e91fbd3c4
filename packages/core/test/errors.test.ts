import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { describeValue, MqError, toMqError } from '../src/spi/index.js';

describe('MqError', () => {
  it('carries a code and a cause', () => {
    const cause = new Error('socket hang up');
    const error = new MqError('BROKER', '[mq/x] failed', { cause });
    expect(error.code).toBe('BROKER');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('MqError');
  });

  it('prints as MqError from the built package too, where the bundler may rename the class', async () => {
    const built = await import('@mq/core');
    const error = new built.MqError('TIMEOUT', '[mq/x] too slow');
    expect(built.MqError.name).toBe('MqError');
    expect(String(error)).toBe('MqError: [mq/x] too slow');
    expect(inspect(error).split('\n')[0]).toBe('MqError: [mq/x] too slow');
  });

  it('isInstance recognises an MqError made by another copy of core, by its marker', () => {
    const foreign = new Error('from another copy');
    Object.defineProperty(foreign, Symbol.for('@mq/core.MqError'), { value: true });
    expect(MqError.isInstance(foreign)).toBe(true);
    expect(MqError.isInstance(new Error('plain'))).toBe(false);
    expect(MqError.isInstance(null)).toBe(false);
    expect(MqError.isInstance('NOT_CONNECTED')).toBe(false);
  });

  it('hasCode checks the code too', () => {
    const error = new MqError('TIMEOUT', 't');
    expect(MqError.hasCode(error, 'TIMEOUT')).toBe(true);
    expect(MqError.hasCode(error, 'CLOSED')).toBe(false);
  });

  it('toMqError wraps foreign errors and keeps MqErrors as they are', () => {
    const own = new MqError('CLOSED', 'c');
    expect(toMqError(own, 'BROKER', 'ctx')).toBe(own);
    const wrapped = toMqError(new Error('boom'), 'BROKER', '[mq/x] open');
    expect(wrapped.code).toBe('BROKER');
    expect(wrapped.message).toBe('[mq/x] open: boom');
  });
});

describe('describeValue', () => {
  it('says what was given in plain words', () => {
    expect(describeValue({ a: 1 })).toBe('an object');
    expect(describeValue(Object.create(null))).toBe('an object');
    expect(describeValue([1])).toBe('an array');
    expect(describeValue(new Map())).toBe('an instance of Map');
    expect(describeValue(() => {})).toBe('a function');
    expect(describeValue(Symbol('s'))).toBe('a symbol');
    expect(describeValue('text')).toBe('"text"');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
  });
});
