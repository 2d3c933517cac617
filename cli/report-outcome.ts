import { codeWords, EXIT, exitStatusFor } from '../errors/index.js';
import type { DriveOutcome } from '../recovery/drive-run.js';
import { loadRunView } from '../recovery/run-view.js';
import type { Session } from './session.js';
import { printJson, printLine } from './output.js';
import { printedStatus } from './printed-commands.js';
import { outcomeLine, printEnding, printNext, provedWords } from './run-words.js';

/** After start/resume: the result on stdout, and the exit status of the run's outcome. */
export function reportOutcome(session: Session, outcome: DriveOutcome, json: boolean): void {
  const view = loadRunView(session, session.store.getRun(outcome.runId));
  if (json) printJson(printedStatus(view));
  if (outcome.phase === 'done') {
    if (!json) {
      printLine(outcome.finishCompleted
        ? `Run ${outcome.runId} is ${outcome.state}: its interrupted finish is now complete.`
        : `Run ${outcome.runId} is ${outcome.state}: ${provedWords(view)}.`);
    }
    process.exitCode = EXIT.OK;
    return;
  }
  if (outcome.phase === 'waiting') {
    if (!json) printEnding(view);
    process.exitCode = EXIT.WAITING;
    return;
  }
  if (!json) {
    // A failed step is told as status tells it (the step, its words and code); any other stop by its error's words.
    printLine(view.situation === 'failed' ? outcomeLine(view)
      : `Run ${outcome.runId} stopped at ${outcome.state}: ${outcome.lastError ? `${codeWords(outcome.lastError.code)}: ${outcome.lastError.message}` : 'step failed'}`);
    printNext(view);
  }
  const status = outcome.lastError ? exitStatusFor(outcome.lastError.code) : EXIT.STEP_FAILED;
  process.exitCode = status === EXIT.OK || status === EXIT.INTERNAL ? EXIT.STEP_FAILED : status;
  if (outcome.lastError?.detail?.stuck === true) {
    // A timed-out OS call that could not be cancelled may hold the event loop open: the
    // checkpoint is committed and the log is written synchronously, so end here.
    session.close();
    process.exit(process.exitCode);
  }
}
