import type { Snapshot, SnapshotFrom, StateValue } from 'xstate';
import { isRecoveryState, type RecoveryState } from './recovery.order.js';
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


const SNAPSHOT_STATUSES: readonly string[] = ['active', 'done', 'error', 'stopped'];

/** A stored value XState can restore an actor from: an object with one of its statuses (XState checks the rest). */
export function isRestorableSnapshot(value: unknown): value is Snapshot<unknown> {
  return typeof value === 'object' && value !== null && 'status' in value && typeof value.status === 'string' && SNAPSHOT_STATUSES.includes(value.status);
}
