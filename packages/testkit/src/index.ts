/** Re-exported from `@mq/core/contract`, where the contract's silent-broker cases use it. */
export { TcpProxy } from '@mq/core/contract';
export { amqpTestUrl, mqttTestUrl, uniqueId, unreachableUrl } from './brokers.js';
export { type RunContractOptions, runContract } from './contract.js';
export {
  createTestCertificates,
  opensslMissing,
  type PemFile,
  type TestCertificates,
} from './throwaway/certificates.js';
export {
  type BrokerTls,
  type MosquittoBroker,
  type MosquittoOptions,
  mosquittoMissing,
  startMosquitto,
} from './throwaway/mosquitto.js';
export { freePort } from './throwaway/ports.js';
export {
  controlRabbitNode,
  type RabbitCluster,
  type RabbitClusterOptions,
  type RabbitControl,
  type RabbitNode,
  type RabbitNodeInfo,
  type RabbitNodeOptions,
  rabbitmqMissing,
  startRabbitCluster,
  startRabbitNode,
} from './throwaway/rabbitmq.js';
