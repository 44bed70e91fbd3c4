import { packageErrors } from './errors.js';

/** The errors core reports of its own (not on a backend's behalf): `[mq/core] ...`. */
export const coreErrors = packageErrors('mq/core');
