import type { Host } from '../host/types.js';
import type { LeaseHolder, LeaseRecord, RunLeases, RunRecord, RunStore } from '../persistence/index.js';
import type { ProgressSink } from './progress.js';

export interface FinishReport {
  quarantineRemoved: boolean;
  staleLeaseReleased: LeaseRecord | null;
}

/**
 * What follows the `running` checkpoint: the reinstall's Kmsdata files, kept aside until the
 * original KMS runs again, are deleted, and a lease left by a process that died in between is
 * released. Idempotent, so a `resume` after a crash in that window completes it.
 */
export async function finishRun(options: {
  store: RunStore; leases: RunLeases; host: Host; run: RunRecord; me: LeaseHolder;
  isAlive: (holder: LeaseRecord) => boolean; progress: ProgressSink;
}): Promise<FinishReport> {
  const { store, leases, host, run, progress } = options;
  const kmsdata = (run.snapshot as { context: { kmsdata: string } }).context.kmsdata;
  const quarantineRemoved = await host.removeQuarantine(kmsdata, run.id);
  if (quarantineRemoved) {
    store.note(run.id, 'quarantine.removed', { kmsdata });
    progress.note('the reinstall\'s Kmsdata files, kept aside until now, are deleted');
  }
  const holder = leases.holder(run.id);
  let staleLeaseReleased: LeaseRecord | null = null;
  if (holder && !(holder.host === options.me.host && holder.pid === options.me.pid) && !options.isAlive(holder)) {
    if (leases.breakLease(run.id, holder)) {
      staleLeaseReleased = holder;
      store.note(run.id, 'lease.released', { fromPid: holder.pid, fromHost: holder.host, reason: 'holder died after the run finished' });
    }
  }
  return { quarantineRemoved, staleLeaseReleased };
}
