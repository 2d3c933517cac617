import { KmsRecoverError } from '../errors/index.js';
import { drivenBy, type LeaseRecord } from '../persistence/index.js';
import type { RunSession } from './continue-run.js';
import { holderIsAlive, leaseStaleAfterMs } from './lease-policy.js';

export interface TakeoverResult {
  runId: string;
  /** The holder taken over from; null when nobody held the run. */
  tookOver: LeaseRecord | null;
}

/**
 * Takes a run's lease from a holder that no longer drives it. A dead process on this host is
 * certain; a holder on another host is only presumed dead from its silent heartbeat, so that
 * needs the operator's confirmation (`confirm` asks and throws when refused). Recorded in the
 * event log either way.
 */
export async function takeoverRun(session: RunSession, runId: string, confirm: (question: string) => Promise<void>, yes: boolean): Promise<TakeoverResult> {
  const run = session.store.getRun(runId);
  const holder = session.leases.holder(run.id);
  if (!holder) return { runId: run.id, tookOver: null };
  const sameHost = holder.host === session.me.host;
  const silentMs = Date.now() - Date.parse(holder.heartbeatAt);
  if (sameHost && holderIsAlive(holder)) {
    throw new KmsRecoverError('RUN_LOCKED', `${drivenBy(run.id, holder)}; that process is alive`, { runId: run.id });
  }
  if (!sameHost) {
    if (silentMs < leaseStaleAfterMs()) {
      throw new KmsRecoverError('RUN_LOCKED', `${drivenBy(run.id, holder)}; its last heartbeat was ${Math.round(silentMs / 1000)} s ago`, { runId: run.id });
    }
    await confirm(`Run ${run.id} is leased by pid ${holder.pid} on ${holder.host}, silent for ${Math.round(silentMs / 1000)} s. Make sure nothing runs there any more. Take the run over?`);
  }
  if (!session.leases.breakLease(run.id, holder)) {
    throw new KmsRecoverError('RUN_LOCKED', `the lease of run ${run.id} changed meanwhile; look again with kms-recover status ${run.id}`, { runId: run.id });
  }
  session.store.note(run.id, 'lease.taken-over', {
    fromPid: holder.pid, fromHost: holder.host, since: holder.acquiredAt, heartbeatAt: holder.heartbeatAt, generation: holder.generation,
    by: 'takeover', confirmed: sameHost ? 'holder dead on this host' : yes ? '--yes' : 'on the terminal',
    toHost: session.me.host,
  });
  return { runId: run.id, tookOver: holder };
}
