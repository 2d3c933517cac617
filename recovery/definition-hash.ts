import { createHash } from 'node:crypto';
import { recoveryMachine } from '../machines/index.js';
import { machineGraph } from './diagram/machine-graph.js';

let cached: string | undefined;

/**
 * SHA-256 of the machine's structure (states, transitions, events, guard and actor names), as
 * walked for the diagrams: a change of wording in a state's KB text does not change it, a
 * change of a state or a transition does.
 */
export function definitionHash(): string {
  cached ??= createHash('sha256').update(JSON.stringify(machineGraph(recoveryMachine))).digest('hex').slice(0, 16);
  return cached;
}
