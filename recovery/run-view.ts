import { KmsRecoverError } from '../errors/index.js';
import { recoveryRecordNow } from '../host/fs/recovery-record.js';
import { serverClaimNow } from '../host/fs/server-claim.js';
import type { RunLeases, RunRecord, RunQueries } from '../persistence/index.js';
import { serverClaimView } from './claim-rule.js';
import { runStatus, type RunStatus } from './run-status.js';

/**
 * The one way every screen reads a run: its row, events, lease, timer and progress, and (for
 * an open run) the server's claim as it stands, projected once by runStatus and the situation
 * rule. `status`, `watch`, `history`, the diagram and the outcome of a drive all call this.
 */
export type RunView = RunStatus;

/** The run named (id or unique prefix), or the latest when none is named. */
export function namedOrLatestRun(store: RunQueries, runId: string | undefined, dbPath: string): RunRecord {
  const run = runId ? store.getRun(runId) : store.latestRun();
  if (!run) throw new KmsRecoverError('RUN_NOT_FOUND', `no runs in ${dbPath} yet (start one with kms-recover start)`);
  return run;
}

export function loadRunView(db: { store: RunQueries; leases: RunLeases }, run: RunRecord, now: number = Date.now()): RunView {
  // The server's claim is read as it stands now (read-only), so a run another run superseded says
  // so. Its two readers come from their own modules: host/fs/index.ts would load every operation's.
  const server = serverClaimView({ serverClaimNow, recoveryRecordNow }, db.store, run);
  return runStatus(run, db.store.events(run.id), db.leases.holder(run.id), db.store.timer(run.id), db.store.progress(run.id), now, server);
}
