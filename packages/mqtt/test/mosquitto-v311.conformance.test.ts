import { runContract } from '@mq/testkit';
import { mosquittoTarget } from './target.js';

// The whole contract again over MQTT 3.1.1: no subscription identifiers, no receive maximum, manual PUBACKs.
runContract(mosquittoTarget(4));
