import { describe, expect, it } from 'vitest';
import { MqError, ownConnection } from '../src/index.js';
import { MemoryLikeConnection } from './fixtures.js';

describe('ownConnection', () => {
  it('returns a connection of the backend own class', () => {
    const connection = new MemoryLikeConnection();
    expect(ownConnection('mq/x', connection, MemoryLikeConnection)).toBe(connection);
  });

  it('rejects another backend connection with INVALID_OPTIONS naming the class', () => {
    let error: unknown;
    try {
      ownConnection('mq/x', {} as never, MemoryLikeConnection);
    } catch (e) {
      error = e;
    }
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toBe(
      '[mq/x] connection must be a MemoryLikeConnection made by this backend, got an object',
    );
  });
});
