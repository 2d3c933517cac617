import type { Host } from '../host/types.js';
import type { FencedRun, LeaseHolder, RunRecord, RunQueries } from '../persistence/index.js';
import { claimCheck, recoveryBefore } from './claim-rule.js';
import type { ProgressSink } from './progress.js';

export interface FinishReport {
  /** Quarantine and staging folders removed: this run's, and those of abandoned runs of this server. */
  removed: string[];
  /** Per-run folders beside Kmsdata that no run of this database owns: left for the operator. */
  kept: string[];
  claimReleased: boolean;
}

export interface FinishOptions {
  store: RunQueries;
  fenced: FencedRun;
  host: Host;
  run: RunRecord;
  progress: ProgressSink;
  /** The database file and this process: named in the record of the recovery left on the server. */
  dbPath: string;
  me: LeaseHolder;
}

/**
 * What follows the `running` checkpoint, under the driver's lease and the server's claim (both
 * checked before each deletion), each part recorded as it is done: the reinstall's Kmsdata files
 * kept aside (this run's quarantine, and those of runs of this server abandoned before it) are
 * deleted, the record of the recovery is left beside Kmsdata (which run, when, from which
 * database), the server's claim released, and the run closed (`run.finished`). Idempotent:
 * `resume` after a crash in this window completes it, and until then `status` says the finish is
 * pending. Once the record names this run, the deletions are behind it and the claim may be gone.
 */
export async function finishRun(options: FinishOptions): Promise<FinishReport> {
  const { store, fenced, host, run, progress } = options;
  const kmsdata = run.params.kmsdata;
  const assertClaim = claimCheck(host, kmsdata, run.id, recoveryBefore(run));
  const mayAct = (before: string) => { fenced.assertCurrent(); assertClaim(before); };
  const owned = [run.id, ...(run.serverKey === null ? [] : store.abandonedRunsOfServer(run.serverKey).map((r) => r.id))];
  const removed: string[] = [];
  const kept: string[] = [];
  const recorded = host.recoveryRecordNow(kmsdata)?.runId === run.id;
  if (!recorded) {
    for (const id of owned) {
      mayAct(`deleting the quarantine of run ${id}`);
      const removal = await host.removeQuarantine(kmsdata, id, store.quarantineLedger(id));
      if (removal.removed.length > 0) fenced.note('quarantine.removed', { kmsdata, of: id, removed: removal.removed.length });
      if (removal.kept.length > 0) fenced.note('quarantine.kept', { kmsdata, of: id, kept: removal.kept, reason: 'not as the ledger recorded it' });
      removed.push(...removal.removed);
      for (const entry of removal.kept) progress.note(`left as is: ${entry} (not as it was when the clear moved it aside; look at it, then delete it by hand)`);
      kept.push(...removal.kept);
    }
    if (removed.length > 0) progress.note('the reinstall\'s Kmsdata files, kept aside until now, are deleted');
    const foreign = (await host.runFolders(kmsdata)).filter((f) => !owned.includes(f.runId)).map((f) => f.path);
    for (const folder of foreign) progress.note(`left as is: ${folder} (not from a run in this database; delete it by hand once you have looked at it)`);
    kept.push(...foreign);
    mayAct('recording the recovery on the server');
    await host.recordRecovery(kmsdata, { runId: run.id, db: options.dbPath, host: options.me.host, recoveredAt: new Date().toISOString(), kmsdata });
    fenced.note('recovery.recorded', { kmsdata });
  }
  fenced.assertCurrent();
  const claimReleased = await host.releaseServerClaim(kmsdata, run.id);
  if (claimReleased) fenced.note('claim.released', { kmsdata });
  fenced.close({ abandoned: false, event: 'run.finished', detail: { removed, kept } });
  return { removed, kept, claimReleased };
}
