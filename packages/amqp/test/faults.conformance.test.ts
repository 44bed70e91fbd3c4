import { runContract } from '@mq/testkit';
import { afterAll, describe } from 'vitest';
import { brokerUrl, nodeForThisFile, restartNode, skipNote } from './broker.js';
import { amqpTarget } from './target.js';

// The contract's broker-restart cases, on a RabbitMQ node of this file's own (they restart it), with persistent
// messages. The other fault cases run against the broker under test in amqp.conformance.test.ts.
const missing = nodeForThisFile();
const { target, cleanup } = amqpTarget(brokerUrl, { restartBroker: restartNode }, true);
afterAll(cleanup, 30_000);

describe.skipIf(missing !== undefined)(`AMQP under broker restarts${skipNote(missing)}`, () => {
  runContract(target, { only: ['faults.restart-mid-stream', 'faults.restart-redelivers-held'] });
});
