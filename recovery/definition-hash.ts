import { createHash } from 'node:crypto';
import { recoveryMachine } from '../machines/index.js';

/** SHA-256 of the machine definition (states, transitions, guard and actor names, meta). */
export function definitionHash(): string {
  return createHash('sha256').update(JSON.stringify(recoveryMachine.definition)).digest('hex').slice(0, 16);
}
