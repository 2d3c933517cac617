import type { RecoveryState } from './recovery.types.js';

/**
 * What each state means and what comes next, in the words of KB Q198814. Used by `status`,
 * the progress lines and the diagram, so the operator always reads the KB's own steps.
 */
export interface KbStep {
  /** KB step(s) completed on reaching this state. */
  kbSteps: string;
  /** What reaching the state means, past tense. */
  reached: string;
  /** The next step in the KB's words, or null at the end. */
  next: string | null;
}

export const KB_STEPS: Record<RecoveryState, KbStep> = {
  reinstalled: {
    kbSteps: '1',
    reached: 'Exchange Server, its service packs and Key Management Server are reinstalled (checked, not performed)',
    next: 'KB step 2: stop the Exchange Key Management Server service.',
  },
  stopped: {
    kbSteps: '2',
    reached: 'the Exchange Key Management Server service is stopped',
    next: 'KB step 3: go to the <path>\\Exchsrvr\\Kmsdata directory, and delete all files.',
  },
  cleared: {
    kbSteps: '3',
    reached: 'all files in Exchsrvr\\Kmsdata are deleted',
    next: 'KB step 4: restore the Kmsdata directory from backup.',
  },
  restored: {
    kbSteps: '4',
    reached: 'the Kmsdata directory is restored from backup and verified',
    next: 'KB steps 5-6: on the start up parameters of the Microsoft Exchange Key Management Server service, type in the alpha string, or insert the start up disk from the old (original) Key Management Server.',
  },
  'credential-set': {
    kbSteps: '5-6',
    reached: 'the alpha string of the original Key Management Server is given as start parameter',
    next: 'KB step 7: start the Microsoft Key Management Server service.',
  },
  running: {
    kbSteps: '7',
    reached: 'the original Key Management Server and all of its data are recovered and running',
    next: null,
  },
};

/** `KB step 4`, `KB steps 5-6`. */
export function kbLabel(kbSteps: string): string {
  return kbSteps.includes('-') ? `KB steps ${kbSteps}` : `KB step ${kbSteps}`;
}

/** The KB's placeholder `<path>\\Exchsrvr\\Kmsdata` as the run's real folder, when it is known. */
export function withKmsdata(words: string, kmsdata: string | null): string {
  return words.replace(/<path>\\Exchsrvr\\Kmsdata/gi, kmsdata ?? 'Exchsrvr\\Kmsdata');
}
