export { amqpTestUrl, mqttTestUrl, uniqueId, unreachableUrl } from './brokers.js';
export { type RunContractOptions, runContract } from './contract.js';
export { TcpProxy } from './proxy.js';
