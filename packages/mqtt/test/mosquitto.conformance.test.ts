import { runContract } from '@mq/testkit';
import { mosquittoTarget } from './target.js';

// The whole contract against the Mosquitto under test over MQTT 5 (the default protocol).
runContract(mosquittoTarget(5));
