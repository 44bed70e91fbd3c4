import { MqError } from '@mq/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHARED_PREFIX, MqttConnection, MqttQueue, mqttBackend } from '../src/index.js';

function invalidMessage(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(MqError.hasCode(error, 'INVALID_OPTIONS')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_OPTIONS');
}

describe('connection options', () => {
  it('fill in defaults and never mutate the object passed in: two connections never share a random clientId', () => {
    const options = { uri: 'mqtt://127.0.0.1:1883' };
    const a = new MqttConnection(options);
    const b = new MqttConnection(options);
    expect(options).toEqual({ uri: 'mqtt://127.0.0.1:1883' });
    expect(a.clientId).toMatch(/^mq-[0-9a-f]{16}$/);
    expect(a.clientId).not.toBe(b.clientId);
    expect(a.settings).toMatchObject({
      connectTimeoutMillis: 3000,
      reconnectMillis: 1000,
      cleanSession: true,
      protocolVersion: 5,
      sessionExpirySeconds: 0,
      keepaliveSeconds: 60,
    });
    expect(new MqttConnection().settings.url).toBe('mqtt://localhost');
  });

  it('a persistent session defaults to a session that never expires (as in MQTT 3.1.1)', () => {
    const conn = new MqttConnection({ clientId: 'fixed', cleanSession: false });
    expect(conn.settings.sessionExpirySeconds).toBe(4_294_967_295);
  });

  it.each([
    [{ clientId: '' }, 'clientId'],
    [{ clientId: 'has space' }, 'clientId'],
    [{ clientId: 'x'.repeat(257) }, 'clientId'],
    [{ clientId: 7 }, 'clientId'],
    [{ cleanSession: false }, 'cleanSession false needs a fixed clientId'],
    [{ cleanSession: 'no' }, 'cleanSession'],
    [{ protocolVersion: 3 }, 'protocolVersion'],
    [{ protocolVersion: 4, receiveMaximum: 10 }, 'receiveMaximum needs protocolVersion 5'],
    [{ protocolVersion: 4, sessionExpirySeconds: 10 }, 'sessionExpirySeconds needs protocolVersion 5'],
    [{ receiveMaximum: 0 }, 'receiveMaximum'],
    [{ receiveMaximum: 65536 }, 'receiveMaximum'],
    [{ sessionExpirySeconds: -1 }, 'sessionExpirySeconds'],
    [{ keepaliveSeconds: 1.5 }, 'keepaliveSeconds'],
    [{ uri: 'amqp://localhost' }, 'uri scheme'],
    [{ tls: { rejectUnauthorised: false } }, "unknown field 'rejectUnauthorised'"],
    [{ tls: { ca: 42 } }, 'tls.ca'],
  ])('reject %o naming the field', (options, text) => {
    const message = invalidMessage(() => new MqttConnection(options as never));
    expect(message).toContain('[mq/mqtt]');
    expect(message).toContain(text);
  });

  it('never show a password: messages and settings redact it', () => {
    const conn = new MqttConnection({ uri: 'mqtts://user:s%40cret@broker.example:8883' });
    expect(conn.settings).toMatchObject({ username: 'user', password: 's@cret' });
    expect(conn.settings.safeUri).toBe('mqtts://user:***@broker.example:8883');
    expect(conn.settings.url).toBe('mqtts://broker.example:8883');
    const message = invalidMessage(() => new MqttConnection({ uri: 'mqtt://u:secret@[bad' }));
    expect(message).not.toContain('secret');
  });

  it('the backend serves mqtt, mqtts, ws and wss URIs', () => {
    expect(mqttBackend.schemes).toEqual(['mqtt', 'mqtts', 'ws', 'wss']);
    expect(mqttBackend.capabilities).toEqual({
      broadcast: true,
      broadcastIsolated: false,
      nackRequeue: true,
      redeliverUnacked: false,
      retainUnicast: false,
      prefetch: false,
    });
  });
});

describe('queue options', () => {
  const conn = new MqttConnection();

  it('unicast receivers subscribe through the default shared group, broadcast ones to the name', () => {
    expect(DEFAULT_SHARED_PREFIX).toBe('$share/mq/');
    expect(new MqttQueue({ name: 'a.b', isRecv: true }, conn).topicFilter).toBe('$share/mq/a.b');
    expect(new MqttQueue({ name: 'a.b', isRecv: true, broadcast: true }, conn).topicFilter).toBe('a.b');
    const general = new MqttQueue({ name: 'a', isRecv: true, sharedPrefix: '$share/general-mq/' }, conn);
    expect(general.topicFilter).toBe('$share/general-mq/a');
    expect(new MqttQueue({ name: 'a', isRecv: true, sharedPrefix: '$queue/' }, conn).topicFilter).toBe(
      '$queue/a',
    );
    expect(new MqttQueue({ name: 'a', isRecv: true, sharedPrefix: '' }, conn).topicFilter).toBe('a');
  });

  it.each(['$share/', '$share//', '$share/g', 'share/g/', '$share/a/b/', '$share/+/', 42])(
    'reject sharedPrefix %o',
    (sharedPrefix) => {
      const message = invalidMessage(
        () => new MqttQueue({ name: 'a', isRecv: true, sharedPrefix } as never, conn),
      );
      expect(message).toContain('sharedPrefix');
    },
  );

  it('a queue needs a connection made by this backend', () => {
    expect(() => mqttBackend.createQueue({ name: 'a', isRecv: false }, {} as never)).toThrow(
      /MqttConnection/,
    );
  });
});
