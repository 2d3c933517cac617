import { KmsRecoverError } from '../errors/index.js';
import { confirmCovers } from '../machines/recovery.manual.js';
import { stepOf, type StepName } from '../machines/recovery.order.js';
import type { RunRecord } from '../persistence/index.js';
import { assertDrivable, type RunSession } from './continue-run.js';
import { manualActionAt } from './manual-action.js';

/**
 * `confirm <run> <step>`: checks that `step` is a manual step of the run and the one it waits
 * for (one confirm covers the manual start and its alpha string), before anything is asked.
 * The confirm itself is the machine's CONFIRM event, sent and checkpointed by the run's driver.
 */
export function confirmManualStep(session: RunSession, run: RunRecord, step: StepName): { covers: StepName[] } {
  assertDrivable(session, run);
  const manual = run.options.manual ?? [];
  if (!manual.includes(step)) {
    throw new KmsRecoverError('MANUAL_STEP_INVALID', `step ${step} of run ${run.id} is not manual (start a run with --manual ${step} to do it by hand)`, { runId: run.id, step });
  }
  const current = stepOf(run.state);
  const covers = confirmCovers(step, current, manual);
  if (run.phase !== 'waiting' || !covers) {
    const waits = run.phase === 'waiting' && current ? manualActionAt(current, manual).confirm : null;
    throw new KmsRecoverError('MANUAL_STEP_INVALID', waits
      ? `run ${run.id} waits for you at ${waits}, not ${step}: when that is done, run kms-recover confirm ${run.id} ${waits}`
      : `run ${run.id} is not waiting for a confirm (it is at ${run.state}, ${run.phase}); kms-recover status ${run.id} says what comes next`,
    { runId: run.id, step, ...(waits ? { waitsFor: waits } : {}) });
  }
  return { covers };
}
