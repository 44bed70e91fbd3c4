import type { MqTransportHealth } from './watch.js';

/** Anything whose health the indicator reads: an {@link MqServer} or an {@link MqClient}. */
export interface MqHealthSource {
  /** Its connection's and queues' health. */
  health(): MqTransportHealth;
}

/** One transport as the indicator reports it. */
export interface MqHealthEntry extends MqTransportHealth {
  /** `server` or `client`, and the client's name for `forFeature` clients. */
  readonly name: string;
  /** Why it counts as down, when it does. */
  readonly problems: readonly string[];
}

/** The indicator's result, in `@nestjs/terminus`'s `HealthIndicatorResult` shape. */
export type MqHealthResult = Record<
  string,
  { status: 'up' | 'down'; transports: readonly MqHealthEntry[]; problems: readonly string[] }
>;

/**
 * Why one transport is not healthy, from core's health: its link down, a receiver with no consumer or
 * subscription attached at the broker, a sender not connected. Empty when it is.
 */
export function problemsOf(name: string, health: MqTransportHealth): string[] {
  const { connection } = health;
  if (!health.started) return [];
  if (connection === undefined) return [`${name}: starting (no connection yet)`];
  const problems: string[] = [];
  if (!connection.linkUp) {
    const why = connection.lastError
      ? ` (last error ${connection.lastError.code}: ${connection.lastError.message})`
      : '';
    problems.push(`${name}: connection ${connection.status}${why}`);
  }
  for (const queue of health.queues) {
    if (queue.side === 'receiver') {
      if (queue.attached !== true) {
        problems.push(
          `${name}: receiver '${queue.pattern}' has no consumer attached at the broker (${queue.status})`,
        );
      }
    } else if (queue.status !== 'connected') {
      problems.push(`${name}: sender '${queue.pattern}' ${queue.status}`);
    }
  }
  return problems;
}

/**
 * A health indicator for `@nestjs/terminus` (`health.check([() => mq.isHealthy()])`) with no dependency on it,
 * reading core's `connection.health()` and `queue.health()`: **down** while a connection's link is down, or a
 * receiver has no consumer or subscription attached at the broker (after a broker restart until mq has attached
 * it again; on RabbitMQ as soon as the broker cancels the consumer of a deleted queue), or a sender is not
 * connected. A server or client not started (never `listen()`ed, never `connect()`ed or `emit()`ted) is not checked.
 */
export class MqHealthIndicator {
  readonly #servers: () => readonly MqHealthSource[];
  readonly #clients: () => ReadonlyMap<string, MqHealthSource>;

  /** Reads the given servers and named clients each time it is asked (`MqModule` passes its own). */
  constructor(
    servers: readonly MqHealthSource[] | (() => readonly MqHealthSource[]),
    clients: ReadonlyMap<string, MqHealthSource> | (() => ReadonlyMap<string, MqHealthSource>) = new Map(),
  ) {
    this.#servers = typeof servers === 'function' ? servers : () => servers;
    this.#clients = typeof clients === 'function' ? clients : () => clients;
  }

  /**
   * `{ [key]: { status: 'up' | 'down', transports, problems } }`: terminus reports a `down` result as an error
   * of the check (HTTP 503) with these details.
   * @param key the name of the check in terminus's report; @default 'mq'
   */
  isHealthy(key = 'mq'): MqHealthResult {
    const transports: MqHealthEntry[] = [];
    this.#servers().forEach((server, index) => {
      const name = index === 0 ? 'server' : `server ${index + 1}`;
      const health = server.health();
      transports.push({ name, ...health, problems: problemsOf(name, health) });
    });
    for (const [name, client] of this.#clients()) {
      const health = client.health();
      transports.push({ name, ...health, problems: problemsOf(name, health) });
    }
    const problems = transports.flatMap((transport) => transport.problems);
    return { [key]: { status: problems.length === 0 ? 'up' : 'down', transports, problems } };
  }
}
