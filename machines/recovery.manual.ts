import { orderOf, stateOfStep, type RecoveryState, type StepName } from './recovery.order.js';

/*
 * The operator's steps (`start --manual`), as the machine decides on them: a manual step's state
 * waits for a CONFIRM; one confirm may cover two steps done in one act at the console.
 */

/**
 * The manual steps a confirm of `step` covers when the run waits at `current`; null: it covers
 * nothing now. Typing the alpha string into the service's start parameters and starting the
 * service is one act (KB steps 5-7): with a manual start, the credential step waits for the
 * confirm of `startService`, which covers both.
 */
export function confirmCovers(step: StepName, current: StepName | null, manual: readonly StepName[]): StepName[] | null {
  if (current === null || !manual.includes(current)) return null;
  if (step === current) return [current];
  if (current === 'setCredential' && step === 'startService' && manual.includes('startService')) return ['setCredential', 'startService'];
  return null;
}

/** The step waits for the operator: it is manual and no confirm covers it yet. */
export function awaitsOperator(step: StepName, manual: readonly StepName[], confirmed: readonly StepName[]): boolean {
  return manual.includes(step) && !confirmed.includes(step);
}

/** Confirmations that still hold once the run is (back) at `state`: those of the steps before it. */
export function confirmationsBefore(confirmed: readonly StepName[], state: RecoveryState): StepName[] {
  return confirmed.filter((step) => orderOf(stateOfStep(step)) < orderOf(state));
}
