import { amqpBackend } from '@mq/amqp';
import { selectBackend } from '@mq/core';
import { memoryBackend } from '@mq/memory';
import { mqttBackend } from '@mq/mqtt';

const uri = process.env.MQ_URL ?? 'memory://demo';
const backend = selectBackend(uri, [amqpBackend, mqttBackend, memoryBackend]);
const conn = backend.createConnection({ uri });
const queue = backend.createQueue({ name: 'jobs', isRecv: false, reliable: true }, conn);
console.log(`${backend.name} serves ${uri}; queue '${queue.name}' is ${queue.status}`);
