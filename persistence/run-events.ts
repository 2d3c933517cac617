import type { StepName } from '../machines/recovery.order.js';

/*
 * Every event type the event log holds, closed: the notes a driver writes (with the detail each
 * carries), the store's own records, and the machine's checkpoints. The words for each live in
 * present/event-words.ts, keyed by this union, so a new event cannot go unexplained.
 */

/** What each note of a driver (FencedRun.note) records: the events that do not change the state. */
export interface NoteDetails {
  'lease.taken-over': {
    fromPid: number; fromHost: string; since: string; generation: number; liveness: 'dead' | 'unresponsive';
    heartbeatAt?: string; by?: 'takeover'; silentMs?: number; confirmed?: string; toHost?: string;
  };
  'claim.lost': Record<string, unknown>;
  'claim.renewed': { claim: string };
  'drift.service-running': { step: StepName; service: string; serviceState: string };
  'drift.kmsdata': { step: StepName; differences: string[]; count: number };
  /**
   * Kmsdata found equal to the backup before a step that depends on it: `identity`, every file
   * still the one the restore wrote (device, inode, size, times); `contents`, every file hashed.
   */
  'kmsdata.checked': { step: StepName; by: 'identity' | 'contents'; files: number };
  'quarantine.removed': { kmsdata: string; of: string; removed: number };
  'quarantine.kept': { kmsdata: string; of: string; kept: string[]; reason: string };
  'recovery.recorded': { kmsdata: string };
  'claim.released': { kmsdata: string };
}
export type NoteEvent = keyof NoteDetails;

/** The events the store writes itself, each with its own method (createRun, beginStep, close, ...). */
export type RecordEvent = 'run.created' | 'claim.taken' | 'step.started' | 'manual.verifying' | 'service.start-requested' | 'restore.promoting'
  | 'retry.scheduled' | 'policy.changed' | 'definition.migrated' | 'run.abandoned' | 'run.finished';

/** The machine's checkpoints: a step's done or error event, and the operator's events. */
export type CheckpointEvent = `xstate.done.actor.${StepName}` | `xstate.error.actor.${StepName}` | 'RETRY' | 'REWIND' | 'CONFIRM';

/** Written by releases before this one, and still read back from their logs. */
export type LegacyEvent = 'manual.confirmed';

export type RunEventName = NoteEvent | RecordEvent | CheckpointEvent | LegacyEvent;

/** How a run is closed: finished (its clean-up done) or abandoned by the operator. */
export type CloseEvent = Extract<RecordEvent, 'run.abandoned' | 'run.finished'>;
