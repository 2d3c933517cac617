import type { Host } from '../host/types.js';
import type { FencedRun, RunRecord, RunStore } from '../persistence/index.js';
import type { ProgressSink } from './progress.js';

export interface FinishReport {
  /** Quarantine and staging folders removed: this run's, and those of abandoned runs of this server. */
  removed: string[];
  /** Per-run folders beside Kmsdata that no run of this database owns: left for the operator. */
  kept: string[];
  claimReleased: boolean;
}

/**
 * What follows the `running` checkpoint, under the driver's lease, each part recorded as it is
 * done: the reinstall's Kmsdata files kept aside (this run's quarantine, and those of runs of this
 * server abandoned before it) are deleted, the server's claim released, and the run closed
 * (`run.finished`). Idempotent: `resume` after a crash in this window completes it, and until then
 * `status` says the finish is pending.
 */
export async function finishRun(options: { store: RunStore; fenced: FencedRun; host: Host; run: RunRecord; progress: ProgressSink }): Promise<FinishReport> {
  const { store, fenced, host, run, progress } = options;
  const kmsdata = run.context.kmsdata;
  const owned = [run.id, ...(run.serverKey === null ? [] : store.abandonedRunsOfServer(run.serverKey).map((r) => r.id))];
  const removed: string[] = [];
  const kept: string[] = [];
  for (const id of owned) {
    fenced.assertCurrent();
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
  fenced.assertCurrent();
  const claimReleased = await host.releaseServerClaim(kmsdata, run.id);
  if (claimReleased) fenced.note('claim.released', { kmsdata });
  fenced.close({ abandoned: false, event: 'run.finished', detail: { removed, kept } });
  return { removed, kept, claimReleased };
}
