import { KmsRecoverError } from '../errors/index.js';
import { stepOf, type StepName } from '../machines/recovery.order.js';
import type { RunRecord } from '../persistence/index.js';
import { assertDrivable, type RunSession } from './continue-run.js';
import { confirmCovers } from './manual-action.js';

/**
 * `confirm <run> <step>`: checks that `step` is a manual step of the run and the one it waits
 * for (one confirm covers the manual start and its alpha string), before anything is asked.
 * `record` writes the confirmations, called once the drive is about to begin.
 */
export function confirmManualStep(session: RunSession, run: RunRecord, step: StepName): { covers: StepName[]; record: () => void } {
  assertDrivable(session, run);
  const manual = run.options.manual ?? [];
  if (!manual.includes(step)) {
    throw new KmsRecoverError('MANUAL_STEP_INVALID', `step ${step} of run ${run.id} is not manual (start a run with --manual ${step} to do it by hand)`, { runId: run.id, step });
  }
  const current = stepOf(run.state);
  const covers = confirmCovers(step, current, manual);
  if (!covers) {
    throw new KmsRecoverError('MANUAL_STEP_INVALID', `run ${run.id} is at ${run.state}; its next step is ${current ?? 'none (finished)'}, not ${step}`, { runId: run.id, step });
  }
  return {
    covers,
    record: () => {
      for (const covered of covers) {
        session.store.note(run.id, 'manual.confirmed', { step: covered, host: session.me.host, pid: session.me.pid, ...(covered === step ? {} : { by: step }) });
      }
    },
  };
}
