import { takeoverRun } from '../../recovery/takeover-run.js';
import { confirmOrRefuse } from '../confirm-prompt.js';
import { printJson, printLine } from '../output.js';
import { openSession } from '../session.js';

/** `takeover <run>`: the lease of a holder that no longer drives the run (recovery/takeover-run.ts). */
export async function takeoverCommand(runId: string, options: { db?: string; yes?: boolean; json?: boolean }): Promise<void> {
  const session = openSession(options.db, { mustExist: true, forWriting: true });
  try {
    const result = await takeoverRun(session, runId, (question) => confirmOrRefuse(question, options.yes), Boolean(options.yes));
    if (options.json) printJson(result);
    else if (!result.tookOver) printLine(`Run ${result.runId} has no lease holder: nothing to take over. Continue with: kms-recover resume ${result.runId}`);
    else printLine(`Took run ${result.runId} over from pid ${result.tookOver.pid} on ${result.tookOver.host}. Continue with: kms-recover resume ${result.runId}`);
  } finally {
    session.close();
  }
}
