import { createHash } from 'node:crypto';
import { recoveryStructure } from '../machines/recovery.structure.js';

let cached: string | undefined;

/**
 * SHA-256 of the machine's structure (machines/recovery.structure.ts: states, transitions,
 * events, guards, actions and steps): a change of the KB's words or of how the diagrams draw the
 * machine does not change it; a change of a state, a transition or a step's name does.
 */
export function definitionHash(): string {
  cached ??= createHash('sha256').update(JSON.stringify(recoveryStructure())).digest('hex').slice(0, 16);
  return cached;
}
