import type { Capabilities } from '../api/backends.js';
import { settleWithin, withDeadline } from '../spi/deadline.js';
import { ContractFailure } from './assert.js';
import { broadcastCases } from './cases/broadcast.js';
import { closeCases } from './cases/close.js';
import { concurrencyCases } from './cases/concurrency.js';
import { constructionCases } from './cases/construction.js';
import { failureCases } from './cases/failures.js';
import { moreFailureCases } from './cases/failures-more.js';
import { faultCases } from './cases/faults.js';
import { moreFaultCases } from './cases/faults-more.js';
import { iterationCases } from './cases/iteration.js';
import { lifecycleCases } from './cases/lifecycle.js';
import { metadataCases } from './cases/metadata.js';
import { moreMetadataCases } from './cases/metadata-more.js';
import { orderCases } from './cases/order.js';
import { payloadCases } from './cases/payloads.js';
import { prefetchCases } from './cases/prefetch.js';
import { reliableCases } from './cases/reliable.js';
import { moreReliableCases } from './cases/reliable-more.js';
import { requestReplyCases } from './cases/request-reply.js';
import { routingCases } from './cases/routing.js';
import { silentBrokerCases } from './cases/silent-broker.js';
import { typedCases } from './cases/typed.js';
import { unicastCases } from './cases/unicast.js';
import { moreUnicastCases } from './cases/unicast-more.js';
import { validationCases } from './cases/validation.js';
import { workloadCases } from './cases/workload.js';
import { ContractContext } from './context.js';
import type { ContractCase, ContractTarget, Requirement } from './types.js';

/** Every case of the conformance contract, grouped, in report order. */
export const contractCases: readonly ContractCase[] = Object.freeze([
  ...lifecycleCases,
  ...validationCases,
  ...constructionCases,
  ...payloadCases,
  ...unicastCases,
  ...moreUnicastCases,
  ...broadcastCases,
  ...reliableCases,
  ...moreReliableCases,
  ...prefetchCases,
  ...concurrencyCases,
  ...closeCases,
  ...workloadCases,
  ...silentBrokerCases,
  ...faultCases,
  ...moreFaultCases,
  ...metadataCases,
  ...moreMetadataCases,
  ...failureCases,
  ...moreFailureCases,
  ...iterationCases,
  ...orderCases,
  ...routingCases,
  ...requestReplyCases,
  ...typedCases,
]);

/** The requirements of `contractCase` that `target` does not meet; non-empty means the case is skipped. */
export function missingRequirements(target: ContractTarget, contractCase: ContractCase): Requirement[] {
  return contractCase.requires.filter((need) => {
    if (need === 'fault:dropConnection') return !target.faults?.dropConnection;
    if (need === 'fault:restartBroker') return !target.faults?.restartBroker;
    if (need === 'fault:silentBroker') return !target.faults?.silentBroker;
    if (need === 'fault:brokerDown') return !target.faults?.brokerDown && !target.faults?.silentBroker;
    if (need === 'fault:heartbeat') return !target.faults?.silentBroker?.heartbeatOptions;
    if (need === 'keepsUnacked')
      return target.backend.capabilities.redeliverUnacked !== true && !target.sessionConnectionOptions;
    if (need.startsWith('no:')) {
      // Only a declared false: an optional capability a backend does not know of says nothing about refusals.
      return target.backend.capabilities[need.slice(3) as keyof Capabilities] !== false;
    }
    return target.backend.capabilities[need as keyof Capabilities] !== true;
  });
}

/** Milliseconds the case may take against this target. */
export function caseTimeout(target: ContractTarget, contractCase: ContractCase): number {
  return contractCase.timeoutMillis * (target.timeScale ?? 1);
}

/**
 * Runs one case against a target and cleans up everything it opened, also on failure. Rejects with the case's
 * failure. Cleanup is bounded so that a wedged backend cannot hang the run.
 */
export async function runContractCase(target: ContractTarget, contractCase: ContractCase): Promise<void> {
  const ctx = new ContractContext(target, contractCase.id);
  const escapes = watchEscapes();
  let failure: unknown;
  try {
    await contractCase.run(ctx);
    await ctx.checkSettlements();
  } catch (error) {
    failure = error;
  } finally {
    await settleWithin(ctx.cleanup(), ctx.waitMillis);
    // A rejection is reported as unhandled only after the microtask queue drains: give it a turn to show.
    await new Promise((resolve) => setImmediate(resolve));
    escapes.stop();
  }
  if (failure !== undefined) throw failure;
  escapes.check(contractCase.id);
}

/**
 * Records every `unhandledRejection` and `uncaughtException` while a case runs: an error that escapes to the
 * process would crash an app (or be lost), so it is the case's failure even when the case itself passed.
 */
function watchEscapes(): { stop(): void; check(id: string): void } {
  const escaped: unknown[] = [];
  const record = (error: unknown): void => {
    escaped.push(error);
  };
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  return {
    stop() {
      process.off('unhandledRejection', record);
      process.off('uncaughtException', record);
    },
    check(id) {
      if (escaped.length === 0) return;
      const shown = escaped
        .slice(0, 3)
        .map((error) => (error instanceof Error ? error.message : String(error)))
        .join('; ');
      throw new ContractFailure(
        `${id}: ${escaped.length} error(s) escaped to the process (unhandled rejection or uncaught exception) while the case ran: ${shown}`,
      );
    },
  };
}

/** The outcome of one case in {@link evaluateContract}. */
export interface CaseOutcome {
  /** The case id. */
  id: string;
  /** What happened. */
  outcome: 'passed' | 'failed' | 'skipped';
  /** Why it failed. */
  error?: unknown;
}

/**
 * Runs cases one after another without any test framework and reports each outcome; for tools and for proving
 * that the contract catches a broken backend.
 */
export async function evaluateContract(
  target: ContractTarget,
  cases: readonly ContractCase[] = contractCases,
): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  for (const contractCase of cases) {
    if (missingRequirements(target, contractCase).length > 0) {
      outcomes.push({ id: contractCase.id, outcome: 'skipped' });
      continue;
    }
    const running = runContractCase(target, contractCase);
    try {
      const limit = caseTimeout(target, contractCase);
      await withDeadline(running, limit, () => new Error(`${contractCase.id} took longer than ${limit} ms`));
      outcomes.push({ id: contractCase.id, outcome: 'passed' });
    } catch (error) {
      outcomes.push({ id: contractCase.id, outcome: 'failed', error });
      // A case that ran out of time is still running: give it (and its cleanup) a bounded while to end, so that
      // its leftovers and escapes are not blamed on the next case.
      await settleWithin(running, 10_000 * (target.timeScale ?? 1));
    }
  }
  return outcomes;
}
