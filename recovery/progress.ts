import type { ErrorRecord } from '../errors/index.js';
import type { WorkProgress } from '../host/types.js';
import type { RecoveryState, StepName } from '../machines/index.js';
import type { WorkActivity } from './work-progress.js';

/** What the driver tells the operator as the run goes; the CLI turns it into lines on stderr. */
export interface ProgressSink {
  stepStarted(state: RecoveryState, step: StepName, attempt: number): void;
  /** A long step's files and bytes so far, at a bounded rate (recovery/work-progress.ts). */
  working(step: StepName, activity: WorkActivity, progress: WorkProgress, elapsedMs: number): void;
  reached(state: RecoveryState, facts: unknown): void;
  stepFailed(state: RecoveryState, error: ErrorRecord): void;
  note(message: string): void;
}
