import type { SnapshotFrom, StateValue } from 'xstate';
import { RECOVERY_STATES, type RecoveryState } from './recovery.types.js';
import type { RecoveryMachine } from './recovery.machine.js';

export type RecoverySnapshot = SnapshotFrom<RecoveryMachine>;

/** Where a run stands: the KB state, and whether its step is being worked or failed and waits for a retry. */
export interface RecoveryPosition {
  state: RecoveryState;
  phase: 'working' | 'failed' | 'done';
}

export function positionOf(value: StateValue): RecoveryPosition {
  if (typeof value === 'string') {
    if (!isRecoveryState(value)) throw new Error(`unknown recovery state "${value}"`);
    return { state: value, phase: value === 'running' ? 'done' : 'working' };
  }
  const [state, sub] = Object.entries(value)[0] ?? [];
  if (!state || !isRecoveryState(state)) throw new Error(`unknown recovery state ${JSON.stringify(value)}`);
  return { state, phase: sub === 'failed' ? 'failed' : 'working' };
}

export function isRecoveryState(name: string): name is RecoveryState {
  return (RECOVERY_STATES as readonly string[]).includes(name);
}
