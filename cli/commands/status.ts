import type { RunStatus } from '../../recovery/run-status.js';
import { loadRunView, namedOrLatestRun } from '../../recovery/run-view.js';
import { timeWords } from '../../present/time-words.js';
import { failureWords } from '../../present/failure-words.js';
import { logPathFor } from '../database-location.js';
import { printJson, printLine } from '../output.js';
import { printedStatus } from '../printed-commands.js';
import { printEnding } from '../run-words.js';
import { openSession, type Session } from '../session.js';
import { checklistLines, headLines, workLines, type ScreenOptions } from '../status-screen.js';

export interface StatusCommandOptions {
  db?: string;
  json?: boolean;
  utc?: boolean;
}

/** Where a run stands. Exits 0 whenever the run could be read: scripts read the outcome from --json (`situation`). */
export function statusCommand(runId: string | undefined, options: StatusCommandOptions): void {
  const session = openSession(options.db, { mustExist: true });
  try {
    const status = readStatus(session, runId);
    if (options.json) printJson(printedStatus(status));
    else printStatus(status, logPathFor(session.dbPath), options);
  } finally {
    session.close();
  }
}

/** The status of the run named (or the latest), read in one go. */
function readStatus(session: Session, runId: string | undefined): RunStatus {
  return loadRunView(session, namedOrLatestRun(session.store, runId, session.dbPath));
}

function printStatus(s: RunStatus, logPath: string, options: ScreenOptions): void {
  for (const line of headLines(s, options)) printLine(line);
  printLine();
  for (const line of checklistLines(s, options)) printLine(line);
  printLine();
  for (const d of s.drift) {
    printLine(`Drift:   ${timeWords(d.at, options)} ${d.service ?? 'the service'} was ${d.serviceState ?? 'running'} before ${d.step ?? 'a step'} (a reboot?); it was stopped again`);
  }
  for (const t of s.takeovers) {
    const how = t.liveness === 'dead' ? 'which had died' : 'which was unresponsive (no heartbeat; taken over with your confirmation)';
    printLine(`Lease:   ${timeWords(t.at, options)} taken over from pid ${t.fromPid ?? '?'} on ${t.fromHost ?? '?'}, ${how}`);
  }
  for (const line of workLines(s, options)) printLine(line);
  // A failed run's error is said once, by the outcome line below (the step, its words, the code, the message).
  if (s.lastError && s.situation !== 'waiting' && s.situation !== 'failed') {
    printLine(`Last error${s.lastErrorAt ? ` at ${timeWords(s.lastErrorAt, options)}` : ''}: ${failureWords(s.current, s.lastError)}: ${s.lastError.message}`);
  }
  if (s.manualSteps.length) printLine(`Manual:  ${s.manualSteps.join(', ')} (done by you, then kms-recover confirm)`);
  printLine(`Log:     ${logPath}; ${s.eventCount} events: kms-recover history ${s.runId}`);
  printLine();
  printEnding(s);
}
