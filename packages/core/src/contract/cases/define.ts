import type { ContractContext } from '../context.js';
import type { ContractCase, ContractGroup, Requirement } from '../types.js';

/** Shorthand for a case; `timeoutMillis` defaults to 30 s. */
export function defineCase(
  group: ContractGroup,
  shortName: string,
  title: string,
  run: (ctx: ContractContext) => Promise<void>,
  options: { requires?: readonly Requirement[]; timeoutMillis?: number } = {},
): ContractCase {
  return {
    id: `${group}.${shortName}`,
    group,
    title,
    requires: options.requires ?? [],
    timeoutMillis: options.timeoutMillis ?? 30_000,
    run,
  };
}

/** `n` payload texts `prefix-0` .. `prefix-(n-1)`. */
export function texts(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
}

/** Sends each text in order, awaiting each send. */
export async function sendAll(
  queue: { sendMsg(p: Uint8Array): Promise<void> },
  items: readonly string[],
): Promise<void> {
  for (const item of items) await queue.sendMsg(Buffer.from(item, 'latin1'));
}
