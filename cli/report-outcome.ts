import { EXIT, exitStatusFor } from '../errors/index.js';
import type { DriveOutcome } from '../recovery/drive-run.js';
import { runStatus } from '../recovery/run-status.js';
import type { Session } from './session.js';
import { printJson, printLine } from './output.js';

/** After start/resume: the result on stdout, and the exit status of the run's outcome. */
export function reportOutcome(session: Session, outcome: DriveOutcome, json: boolean): void {
  const status = runStatus(session.store.getRun(outcome.runId), session.store.events(outcome.runId), null);
  if (json) printJson(status);
  if (outcome.phase === 'done') {
    if (!json) printLine(`Run ${outcome.runId} is ${outcome.state}: recovery complete.`);
    process.exitCode = EXIT.OK;
    return;
  }
  if (!json) {
    printLine(`Run ${outcome.runId} stopped at ${outcome.state}: ${outcome.lastError?.message ?? 'step failed'}`);
    if (status.next) printLine(`Next: ${status.next}`);
  }
  process.exitCode = outcome.lastError ? exitStatusFor(outcome.lastError.code) : EXIT.STEP_FAILED;
  if (process.exitCode === EXIT.OK || process.exitCode === EXIT.INTERNAL) process.exitCode = EXIT.STEP_FAILED;
}
