/** Re-exported from `@mq/core/contract`, where the contract's silent-broker cases use it. */
export { TcpProxy } from '@mq/core/contract';
export { amqpTestUrl, mqttTestUrl, uniqueId, unreachableUrl } from './brokers.js';
export { type RunContractOptions, runContract } from './contract.js';
