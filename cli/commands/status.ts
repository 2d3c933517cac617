import type { RunStatus } from '../../recovery/run-status.js';
import { loadRunView, namedOrLatestRun } from '../../recovery/run-view.js';
import { logPathFor } from '../database-location.js';
import { printJson } from '../output.js';
import { printedStatus } from '../printed-commands.js';
import { openSession, type Session } from '../session.js';

export interface StatusCommandOptions {
  db?: string;
  json?: boolean;
  utc?: boolean;
}

/** Where a run stands. Exits 0 whenever the run could be read: scripts read the outcome from --json (`situation`). */
export async function statusCommand(runId: string | undefined, options: StatusCommandOptions): Promise<void> {
  const session = openSession(options.db, { mustExist: true });
  try {
    const status = readStatus(session, runId);
    if (options.json) printJson(printedStatus(status));
    else (await import('../status-print.js')).printStatus(status, logPathFor(session.dbPath), options);
  } finally {
    session.close();
  }
}

/** The status of the run named (or the latest), read in one go. */
function readStatus(session: Session, runId: string | undefined): RunStatus {
  return loadRunView(session, namedOrLatestRun(session.store, runId, session.dbPath));
}
