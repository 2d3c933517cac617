import { KmsRecoverError } from '../../errors/index.js';
import { STEP_OF_STATE, type RecoveryState } from '../../machines/recovery.types.js';
import { confirmCovers } from '../../recovery/manual-action.js';
import { parseStepName, type RunOptions } from '../../recovery/step-policy.js';
import { openSession } from '../session.js';
import { assertDrivable, continueRun, type ResumeCommandOptions } from './resume.js';

/**
 * The operator did a manual step: record it, then continue the run, whose step now verifies on
 * the server what can be verified before the run goes on.
 */
export async function confirmCommand(runId: string, stepArg: string, options: ResumeCommandOptions): Promise<void> {
  const session = openSession(options.db, { mustExist: true, forWriting: true });
  try {
    const run = session.store.getRun(runId);
    const step = parseStepName(stepArg);
    assertDrivable(session, run);
    if (!((run.options as RunOptions).manual ?? []).includes(step)) {
      throw new KmsRecoverError('MANUAL_STEP_INVALID', `step ${step} of run ${run.id} is not manual (start a run with --manual ${step} to do it by hand)`, { runId: run.id, step });
    }
    const manual = (run.options as RunOptions).manual ?? [];
    const current = run.state === 'running' ? null : STEP_OF_STATE[run.state as Exclude<RecoveryState, 'running'>];
    // One action, one confirm: confirming startService at the credential step covers both.
    const covers = confirmCovers(step, current, manual);
    if (!covers) {
      throw new KmsRecoverError('MANUAL_STEP_INVALID', `run ${run.id} is at ${run.state}; its next step is ${current ?? 'none (finished)'}, not ${step}`, { runId: run.id, step });
    }
    await continueRun(session, run, options, () => {
      for (const covered of covers) session.store.note(run.id, 'manual.confirmed', { step: covered, host: session.me.host, pid: session.me.pid, ...(covered === step ? {} : { by: step }) });
    });
  } finally {
    session.close();
  }
}
