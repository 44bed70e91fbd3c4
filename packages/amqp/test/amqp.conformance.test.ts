import { runContract } from '@mq/testkit';
import { afterAll } from 'vitest';
import { amqpTarget } from './target.js';

// The whole conformance contract against the RabbitMQ under test (MQ_TEST_AMQP_URL), with every capability.
const { target, cleanup } = amqpTarget();
afterAll(cleanup, 30_000);
runContract(target);
