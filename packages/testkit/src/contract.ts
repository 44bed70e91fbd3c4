import {
  type ContractCase,
  type ContractGroup,
  type ContractTarget,
  caseTimeout,
  contractCases,
  missingRequirements,
  runContractCase,
} from '@mq/core/contract';
import { describe, it } from 'vitest';

/** Options of {@link runContract}. */
export interface RunContractOptions {
  /** Backend-specific cases to run beside the shared ones, under their own groups. */
  additionalCases?: readonly ContractCase[];
  /** Only run cases whose id starts with one of these (e.g. `['unicast.']`); for debugging. */
  only?: readonly string[];
}

/**
 * Registers the whole conformance contract as vitest tests, one `describe` per group and one `it` per case.
 * Cases whose capability or fault hook the target lacks are registered as skipped, with the need in the title.
 */
export function runContract(target: ContractTarget, options: RunContractOptions = {}): void {
  const cases = [...contractCases, ...(options.additionalCases ?? [])].filter(
    (c) => !options.only || options.only.some((prefix) => c.id.startsWith(prefix)),
  );
  const groups = new Map<ContractGroup | string, ContractCase[]>();
  for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  describe(`${target.backend.name} conformance`, () => {
    for (const [group, groupCases] of groups) {
      describe(group, () => {
        for (const c of groupCases) {
          const missing = missingRequirements(target, c);
          const title = missing.length > 0 ? `${c.title} (skipped: needs ${missing.join(', ')})` : c.title;
          it.skipIf(missing.length > 0)(title, () => runContractCase(target, c), caseTimeout(target, c));
        }
      });
    }
  });
}
