import type { Snapshot, SnapshotFrom, StateValue } from 'xstate';
import { isRecoveryState, type RecoveryState } from './recovery.order.js';
import type { RecoveryMachine } from './recovery.machine.js';

export type RecoverySnapshot = SnapshotFrom<RecoveryMachine>;

/**
 * Where a run stands: the KB state, and whether its step is being worked, failed (waits for a
 * retry), or waits for the operator to do it by hand (`waiting`).
 */
export interface RecoveryPosition {
  state: RecoveryState;
  phase: 'working' | 'waiting' | 'failed' | 'done';
}

export function positionOf(value: StateValue): RecoveryPosition {
  return positionOfValue(value);
}

/** The position a stored snapshot's `value` stands for (anything else throws, naming it). */
export function positionOfStored(snapshot: unknown): RecoveryPosition {
  return positionOfValue(typeof snapshot === 'object' && snapshot !== null && 'value' in snapshot ? snapshot.value : undefined);
}

function positionOfValue(value: unknown): RecoveryPosition {
  if (typeof value !== 'string' && (typeof value !== 'object' || value === null)) throw new Error(`no recovery state in ${JSON.stringify(value)}`);
  if (typeof value === 'string') {
    if (!isRecoveryState(value)) throw new Error(`unknown recovery state "${value}"`);
    return { state: value, phase: value === 'running' ? 'done' : 'working' };
  }
  const [state, sub] = Object.entries(value)[0] ?? [];
  if (!state || !isRecoveryState(state)) throw new Error(`unknown recovery state ${JSON.stringify(value)}`);
  return { state, phase: sub === 'failed' ? 'failed' : sub === 'waiting' ? 'waiting' : 'working' };
}


const SNAPSHOT_STATUSES: readonly string[] = ['active', 'done', 'error', 'stopped'];

/** A stored value XState can restore an actor from: an object with one of its statuses (XState checks the rest). */
export function isRestorableSnapshot(value: unknown): value is Snapshot<unknown> {
  return typeof value === 'object' && value !== null && 'status' in value && typeof value.status === 'string' && SNAPSHOT_STATUSES.includes(value.status);
}
