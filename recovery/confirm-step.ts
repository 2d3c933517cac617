import { KmsRecoverError } from '../errors/index.js';
import { kbLabel } from '../machines/recovery.kb-steps.js';
import { confirmCovers } from '../machines/recovery.manual.js';
import { stepOf, type StepName } from '../machines/recovery.order.js';
import type { RunRecord } from '../persistence/index.js';
import { assertDrivable, type RunSession } from './continue-run.js';
import { manualActionAt } from './manual-action.js';
import { driveArgs } from './run-situation.js';

/**
 * `confirm <run> <step>`: checks that `step` is a manual step of the run and the one it waits
 * for (one confirm covers the manual start and its alpha string), before anything is asked.
 * A run waiting for another step is named with that step and the confirm command that works.
 * The confirm itself is the machine's CONFIRM event, sent and checkpointed by the run's driver.
 */
export function confirmManualStep(session: RunSession, run: RunRecord, step: StepName): { covers: StepName[] } {
  assertDrivable(session, run);
  const manual = run.options.manual ?? [];
  const current = stepOf(run.state);
  const waiting = run.phase === 'waiting' && current !== null;
  const covers = waiting && manual.includes(step) ? confirmCovers(step, current, manual) : null;
  if (covers) return { covers };
  if (waiting) {
    const action = manualActionAt(current, manual);
    const command = `kms-recover confirm ${run.id} ${action.confirm}${driveArgs({ manual, startupDisk: run.options.startupDisk ?? null })}`;
    throw new KmsRecoverError('MANUAL_STEP_INVALID',
      `run ${run.id} waits for you at ${kbLabel(action.kbSteps)} (${action.confirm}), not ${step}: when that is done, run: ${command}`,
      { runId: run.id, step, waitsFor: action.confirm });
  }
  if (!manual.includes(step)) {
    throw new KmsRecoverError('MANUAL_STEP_INVALID',
      `step ${step} of run ${run.id} is not manual, and the run waits for no confirm (it is at ${run.state}, ${run.phase}); kms-recover status ${run.id} says what comes next`,
      { runId: run.id, step });
  }
  throw new KmsRecoverError('MANUAL_STEP_INVALID',
    `run ${run.id} is not waiting for a confirm (it is at ${run.state}, ${run.phase}); kms-recover status ${run.id} says what comes next`,
    { runId: run.id, step });
}
