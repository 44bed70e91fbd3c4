import type { Backend } from '@mq/core';
import { type CaseOutcome, type ContractTarget, contractCases, evaluateContract } from '@mq/core/contract';
import { MemoryBroker, memoryContractFaults } from '@mq/memory';
import { uniqueId } from '@mq/testkit';
import { expect } from 'vitest';

/** A contract target on a fresh in-process broker, for `backend` (a broken variant of `@mq/memory`). */
export function target(backend: Backend): ContractTarget {
  const broker = uniqueId('broken');
  const down = MemoryBroker.named(uniqueId('down'));
  down.stop();
  return {
    backend,
    // Reconnects well inside the shortened waits below.
    connectionOptions: () => ({ uri: `memory://${broker}`, reconnectMillis: 100 }),
    unreachableConnectionOptions: () => ({ uri: `memory://${down.name}`, reconnectMillis: 50 }),
    faults: memoryContractFaults(broker),
    // Failing cases wait for messages that never come: shorter waits keep this suite quick.
    timeScale: 0.1,
  };
}

/**
 * The ids of the cases that failed. A case that fails on a programming error (of the broken backend's wrapper
 * or of the contract) proves nothing about what the contract catches, so that fails the test.
 */
export function failed(outcomes: CaseOutcome[]): string[] {
  const failures = outcomes.filter((o) => o.outcome === 'failed');
  for (const { id, error } of failures) {
    if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError)
      throw new Error(`${id} failed on a programming error, not on the defect: ${String(error)}`);
  }
  return failures.map((o) => o.id);
}

/** Runs only the cases `ids` against `backend` and expects every one of them to fail. */
export async function failsExactly(backend: Backend, ids: readonly string[]): Promise<void> {
  const cases = contractCases.filter((c) => ids.includes(c.id));
  expect(cases.map((c) => c.id).sort()).toEqual([...ids].sort());
  expect(failed(await evaluateContract(target(backend), cases)).sort()).toEqual([...ids].sort());
}
