/** Which broker family a scenario runs on. */
export type Family = 'amqp' | 'mqtt';
/** Delivery guarantee. */
export type Mode = 'best-effort' | 'reliable' | 'reliable-persistent';
/** Who receives. */
export type Topology = 'unicast-1to1' | 'unicast-1to3' | 'broadcast-1to3';
/**
 * How the sender waits: each send awaited before the next, up to {@link WINDOW} in flight, or awaited at a low,
 * fixed rate ({@link PACED_RATE} a second) where only latency tells clients apart.
 */
export type Pacing = 'awaited' | 'in-flight' | 'paced';

/** One unit of work, run by the raw client and by mq alike. */
export interface Scenario {
  family: Family;
  mode: Mode;
  size: number;
  topology: Topology;
  pacing: Pacing;
  /** Messages to send. */
  count: number;
}

/** Sends kept in flight in `in-flight` pacing. */
export const WINDOW = 100;
/** Messages a second in `paced` pacing. */
export const PACED_RATE = 100;
/** Unacked messages a receiver may hold. */
export const PREFETCH = 100;

/** Receivers a topology has. */
export function receiverCount(topology: Topology): number {
  return topology === 'unicast-1to1' ? 1 : 3;
}

/** Deliveries a scenario expects. */
export function expectedDeliveries(s: Scenario): number {
  return s.topology === 'broadcast-1to3' ? s.count * 3 : s.count;
}

/** A short, stable label. */
export function label(s: Scenario): string {
  const size = s.size >= 1024 ? `${s.size / 1024}KiB` : `${s.size}B`;
  const pacing = s.pacing === 'paced' ? `awaited ${PACED_RATE}/s` : s.pacing;
  return `${s.family} ${s.mode} ${size} ${s.topology} ${pacing}`;
}

/** The mode a scenario's ratios are pooled in: backend and guarantee, the low-rate latency rows apart. */
export function modeOf(s: Scenario): string {
  return s.pacing === 'paced' ? `${s.family} ${s.mode} ${PACED_RATE}/s` : `${s.family} ${s.mode}`;
}

/**
 * Messages per run: enough that one run lasts well over the timer and scheduling noise of a busy 2-core machine
 * (a few hundred ms at the slowest rates), small enough that `--quick` stays near a minute.
 */
function defaultCount(pacing: Pacing, size: number, quick: boolean): number {
  // 3 s a round at 100/s: a p99 over 300 latencies is the 3rd worst, not the single worst.
  if (pacing === 'paced') return quick ? 50 : 300;
  const base = pacing === 'awaited' ? (quick ? 1000 : 4000) : quick ? 3000 : 20000;
  return size > 1024 ? base / 2 : base;
}

/** Every scenario of the full run, or the smoke subset of `--quick`. */
export function scenarios(options: { quick: boolean; only?: string; count?: number }): Scenario[] {
  const all: Scenario[] = [];
  for (const family of ['amqp', 'mqtt'] as const) {
    const modes: Mode[] =
      family === 'amqp' ? ['best-effort', 'reliable', 'reliable-persistent'] : ['best-effort', 'reliable'];
    for (const mode of modes) {
      for (const size of [256, 16 * 1024]) {
        for (const topology of ['unicast-1to1', 'unicast-1to3', 'broadcast-1to3'] as const) {
          for (const pacing of ['awaited', 'in-flight'] as const) {
            all.push({
              family,
              mode,
              size,
              topology,
              pacing,
              count: options.count ?? defaultCount(pacing, size, options.quick),
            });
          }
        }
      }
    }
  }
  // The latency at a low rate, which batching must not worsen: a lone 256 B message, awaited, 100 a second.
  for (const family of ['amqp', 'mqtt'] as const) {
    for (const mode of ['best-effort', 'reliable'] as const) {
      all.push({
        family,
        mode,
        size: 256,
        topology: 'unicast-1to1',
        pacing: 'paced',
        count: options.count ?? defaultCount('paced', 256, options.quick),
      });
    }
  }
  const picked = options.quick
    ? all.filter(
        (s) =>
          s.topology !== 'unicast-1to3' &&
          (s.size === 256 || s.mode === 'reliable') &&
          (s.pacing !== 'paced' || s.mode === 'reliable'),
      )
    : all;
  return options.only ? picked.filter((s) => label(s).includes(options.only as string)) : picked;
}
