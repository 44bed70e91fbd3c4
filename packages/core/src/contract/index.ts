export {
  ContractFailure,
  check,
  checkCode,
  checkEqual,
  checkRejectsCode,
  checkSameBytes,
  checkSameList,
  checkThrowsCode,
} from './assert.js';
export { defineCase, sendAll, texts } from './cases/define.js';
export {
  type CaseQueueOptions,
  Collector,
  ContractContext,
  type Received,
  type Settle,
  type Settlement,
} from './context.js';
export { TcpProxy } from './proxy.js';
export {
  type CaseOutcome,
  caseTimeout,
  contractCases,
  evaluateContract,
  missingRequirements,
  runContractCase,
} from './run.js';
export type {
  ContractCase,
  ContractFaults,
  ContractGroup,
  ContractTarget,
  Requirement,
  SilentBrokerFault,
} from './types.js';
