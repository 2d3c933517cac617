import { confirmManualStep } from '../../recovery/confirm-step.js';
import { continueRun } from '../../recovery/continue-run.js';
import { parseStepName } from '../../recovery/step-policy.js';
import { terminalDriveIO } from '../drive-io.js';
import { reportOutcome } from '../report-outcome.js';
import { openSession } from '../session.js';

/**
 * `confirm <run> <step>`: the operator did a manual step. It is recorded, then the run goes on,
 * its step verifying on the server what can be verified.
 */
export async function confirmCommand(runId: string, stepArg: string, options: { db?: string; json?: boolean; startupDisk?: string }): Promise<void> {
  const session = openSession(options.db, { mustExist: true, forWriting: true });
  try {
    const run = session.store.getRun(runId);
    const step = parseStepName(stepArg);
    confirmManualStep(session, run, step);
    const outcome = await continueRun(session, run, { confirm: step }, terminalDriveIO(session.dbPath, options));
    reportOutcome(session, outcome, Boolean(options.json));
  } finally {
    session.close();
  }
}
