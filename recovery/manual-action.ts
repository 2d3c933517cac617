import { KB_STEPS, withKmsdata } from '../machines/recovery.kb-steps.js';
import { confirmCovers } from '../machines/recovery.manual.js';
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
export function manualActionAt(step: StepName, manual: readonly StepName[], kmsdata: string | null = null): ManualAction {
  const state = stateOfStep(step);
  const covered = confirmCovers('startService', step, manual);
  if (step === 'setCredential' && covered) {
    return {
      kbSteps: '5-7',
      words: `${withoutLabel(KB_STEPS.restored.next)} Then ${withoutLabel(KB_STEPS['credential-set'].next, false)}`,
      confirm: 'startService',
      covers: covered,
    };
  }
  // The KB's words with the run's real folder; the clear is checked as an empty folder, so say so.
  const words = step === 'clearKmsdata'
    ? `Go to the ${kmsdata ?? 'Exchsrvr\\Kmsdata'} directory and delete everything in it, files and folders (the KB says "all files"; the check after your confirm wants it empty).`
    : withKmsdata(withoutLabel(KB_STEPS[state].next), kmsdata);
  return { kbSteps: KB_STEPS[stateAfter(state)].kbSteps, words, confirm: step, covers: [step] };
}


/** `KB step 2: stop the ... service.` → `Stop the ... service.` */
function withoutLabel(next: string | null, capital = true): string {
  const words = (next ?? '').replace(/^KB steps? [0-9-]+: /, '');
  return (capital ? words.charAt(0).toUpperCase() : words.charAt(0).toLowerCase()) + words.slice(1);
}
