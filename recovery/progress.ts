import type { ErrorRecord } from '../errors/index.js';
import type { RecoveryState, StepName } from '../machines/index.js';

/** What the driver tells the operator as the run goes; the CLI turns it into lines on stderr. */
export interface ProgressSink {
  stepStarted(state: RecoveryState, step: StepName, attempt: number): void;
  reached(state: RecoveryState, facts: unknown): void;
  stepFailed(state: RecoveryState, error: ErrorRecord): void;
  note(message: string): void;
}
