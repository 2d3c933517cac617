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
  const kmsdata = (run.snapshot as { context: { kmsdata: string } }).context.kmsdata;
  const owned = [run.id, ...(run.serverKey === null ? [] : store.abandonedRunsOfServer(run.serverKey).map((r) => r.id))];
  const removed: string[] = [];
  for (const id of owned) {
    const before = (await host.runFolders(kmsdata)).filter((f) => f.runId === id).map((f) => f.path);
    fenced.assertCurrent();
    if (await host.removeQuarantine(kmsdata, id)) {
      removed.push(...before);
      fenced.note('quarantine.removed', { kmsdata, of: id, folders: before });
    }
  }
  if (removed.length > 0) progress.note('the reinstall\'s Kmsdata files, kept aside until now, are deleted');
  const kept = (await host.runFolders(kmsdata)).filter((f) => !owned.includes(f.runId)).map((f) => f.path);
  for (const folder of kept) progress.note(`left as is: ${folder} (not from a run in this database; delete it by hand once you have looked at it)`);
  fenced.assertCurrent();
  const claimReleased = await host.releaseServerClaim(kmsdata, run.id);
  if (claimReleased) fenced.note('claim.released', { kmsdata });
  fenced.close({ abandoned: false, event: 'run.finished', detail: { removed, kept } });
  return { removed, kept, claimReleased };
}
