import { KmsRecoverError } from '../../errors/index.js';
import { continueRun } from '../../recovery/continue-run.js';
import { policiesFrom } from '../../recovery/step-policy.js';
import { parseSettleSeconds } from '../../recovery/settle-window.js';
import { terminalDriveIO } from '../drive-io.js';
import { reportOutcome } from '../report-outcome.js';
import { openSession } from '../session.js';

export interface ResumeCommandOptions {
  startupDisk?: string;
  db?: string;
  json?: boolean;
  /** `--from <state>`: go back to this earlier state first (after confirmation). */
  from?: string;
  yes?: boolean;
  timeout?: string[];
  attempts?: string[];
  backoff?: string[];
  settle?: string;
}

/** `resume [run]`: drives the run (the newest unfinished one by default) from its checkpoint. */
export async function resumeCommand(runId: string | undefined, options: ResumeCommandOptions): Promise<void> {
  // Bad option values are refused before anything is opened.
  const policies = policiesFrom(options);
  const settleSeconds = options.settle === undefined ? undefined : parseSettleSeconds(options.settle);
  const session = openSession(options.db, { mustExist: true, forWriting: true });
  try {
    const run = runId ? session.store.getRun(runId) : session.store.latestUnfinishedRun();
    if (!run) throw new KmsRecoverError('NOTHING_TO_RESUME', `no unfinished run in ${session.dbPath} (kms-recover list shows the runs)`);
    const outcome = await continueRun(session, run, { from: options.from, yes: options.yes, policies, settleSeconds }, terminalDriveIO(session.dbPath, options));
    reportOutcome(session, outcome, Boolean(options.json));
  } finally {
    session.close();
  }
}
