import { KB_STEPS } from '../machines/recovery.kb-steps.js';
import { stateAfter, stateOfStep, type StepName } from '../machines/recovery.order.js';

/** What the administrator does by hand at a manual step, and the one `confirm` that says it is done. */
export interface ManualAction {
  /** `2`, `5-7`. */
  kbSteps: string;
  /** The KB's words for all of it, once. */
  words: string;
  /** The step to name in `kms-recover confirm <run> <step>`. */
  confirm: StepName;
  /** The manual steps that one confirm covers, in order. */
  covers: StepName[];
}

/**
 * Typing the alpha string into the service's start parameters and starting the service is one
 * action at the console (KB steps 5-7): with a manual start (which makes the credential manual
 * too), the credential step waits for the confirm of `startService`, which covers both.
 */
export function manualActionAt(step: StepName, manual: readonly StepName[]): ManualAction {
  const state = stateOfStep(step);
  if (step === 'setCredential' && manual.includes('startService')) {
    return {
      kbSteps: '5-7',
      words: `${withoutLabel(KB_STEPS.restored.next)} Then ${withoutLabel(KB_STEPS['credential-set'].next, false)}`,
      confirm: 'startService',
      covers: ['setCredential', 'startService'],
    };
  }
  return { kbSteps: KB_STEPS[stateAfter(state)].kbSteps, words: withoutLabel(KB_STEPS[state].next), confirm: step, covers: [step] };
}

/** The manual steps a confirm of `step` covers when the run's next step is `current`; null: it covers nothing now. */
export function confirmCovers(step: StepName, current: StepName | null, manual: readonly StepName[]): StepName[] | null {
  if (current === null || !manual.includes(current)) return null;
  const action = manualActionAt(current, manual);
  if (step === current) return [current];
  return action.confirm === step ? action.covers : null;
}

/** `KB step 2: stop the ... service.` → `Stop the ... service.` */
function withoutLabel(next: string | null, capital = true): string {
  const words = (next ?? '').replace(/^KB steps? [0-9-]+: /, '');
  return (capital ? words.charAt(0).toUpperCase() : words.charAt(0).toLowerCase()) + words.slice(1);
}
