import { codeWords } from '../errors/index.js';
import { KB_STEPS, kbLabel } from '../machines/recovery.kb-steps.js';
import { isStepName, nextStateOf, recoveryStateOf, stepOf, type StepName } from '../machines/recovery.order.js';

/** The step a failed run rests at: the one it does again on resume (`status --json` `current`). */
export interface FailedAt {
  kbSteps: string;
  step: StepName;
}

/** Each step as a moment of the recovery, for `when …`, `during …`, `before …` (the report's re-checks). */
export const STEP_MOMENTS: Record<StepName, string> = {
  stopService: 'the service was stopped',
  clearKmsdata: 'the clear',
  restoreKmsdata: 'the restore',
  setCredential: 'the alpha string was given',
  startService: 'the service was started',
};

/**
 * When the error came from another step than the one the run rests at: the KMS refuses a wrong
 * alpha string only when it starts (KB step 7), and the run goes back to KB steps 5-6 to be given
 * the right one. The failed step is the one the run does again; these words say where it showed.
 */
const FOUND_WHEN: Record<StepName, string> = {
  stopService: `when ${STEP_MOMENTS.stopService}`,
  clearKmsdata: `during ${STEP_MOMENTS.clearKmsdata}`,
  restoreKmsdata: `during ${STEP_MOMENTS.restoreKmsdata}`,
  setCredential: `when ${STEP_MOMENTS.setCredential}`,
  startService: `when ${STEP_MOMENTS.startService}`,
};

/**
 * A failed step in words, the same on every screen (status, watch, start/resume, history, the
 * diagram): `KB steps 5-6 failed: the alpha string was refused (ALPHA_REJECTED) when the service was started`.
 */
export function failureWords(at: FailedAt | null, error: { code: string; step?: string } | null): string {
  return `${at ? kbLabel(at.kbSteps) : 'the step'} failed: ${failureCause(at, error)}`;
}

/** Why it failed, as the failed step's box says it: `the alpha string was refused (ALPHA_REJECTED) when the service was started`. */
export function failureCause(at: FailedAt | null, error: { code: string; step?: string } | null): string {
  if (!error) return 'no error was recorded';
  const found = error.step && isStepName(error.step) && error.step !== at?.step ? ` ${FOUND_WHEN[error.step]}` : '';
  return `${codeWords(error.code)}${found}`;
}

/** The step a run rests at after a failure that left it in `state` (a history event's `to`). */
export function failedAtState(state: string): FailedAt | null {
  const resting = recoveryStateOf(state);
  const step = resting ? stepOf(resting) : null;
  const next = resting ? nextStateOf(resting) : null;
  return step && next ? { kbSteps: KB_STEPS[next].kbSteps, step } : null;
}
