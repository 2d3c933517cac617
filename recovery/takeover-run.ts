import { KmsRecoverError } from '../errors/index.js';
import { drivenBy, FencedRun, type LeaseRecord } from '../persistence/index.js';
import type { RunSession } from './continue-run.js';
import { heartbeatMoves, livenessOf, livenessWords, type Liveness } from './lease-policy.js';

export interface TakeoverResult {
  runId: string;
  /** The holder taken over from; null when nobody held the run. */
  tookOver: LeaseRecord | null;
  /** What the liveness rule said of it: `dead`, or `unresponsive` (taken with the operator's confirmation). */
  liveness?: Exclude<Liveness, 'alive'>;
}

/**
 * Takes a run's lease from a holder that no longer drives it, by the liveness rule
 * (lease-policy.ts): a dead holder (its process gone, on this machine) is taken at once; an
 * unresponsive one (no heartbeat: paused, hung, or on a machine that cannot be asked) only with
 * the operator's confirmation (`confirm` asks and throws when refused), and only once its
 * heartbeat was watched and did not move (a live holder whose clock differs from ours looks
 * silent by the clocks); an alive one never. Fencing makes it safe: the holder, if it wakes up,
 * can write nothing and changes nothing on the server. Recorded in the event log either way.
 */
export async function takeoverRun(session: RunSession, runId: string, confirm: (question: string) => Promise<void>, yes: boolean): Promise<TakeoverResult> {
  const run = session.store.getRun(runId);
  const holder = session.leases.holder(run.id);
  if (!holder) return { runId: run.id, tookOver: null };
  const verdict = livenessOf(holder);
  if (verdict.liveness === 'alive') {
    throw new KmsRecoverError('RUN_LOCKED', `${drivenBy(run.id, holder)}; ${livenessWords(holder, verdict)}: its last heartbeat was ${Math.round(verdict.silentMs / 1000)} s ago`, { runId: run.id, liveness: 'alive' });
  }
  if (verdict.liveness === 'unresponsive') {
    await confirm(`Run ${run.id} is leased by ${livenessWords(holder, verdict)}. Make sure it does not come back (end that process, or the machine it runs on). Take the run over?`);
    if (await heartbeatMoves(() => session.leases.holder(run.id), holder)) {
      throw new KmsRecoverError('RUN_LOCKED',
        `${drivenBy(run.id, holder)}; its heartbeat still moves, so it is alive (the clock of ${holder.host} and this machine's may differ): nothing was taken over`,
        { runId: run.id, liveness: 'alive' });
    }
  }
  const token = session.leases.breakLease(run.id, holder);
  if (token === null) {
    throw new KmsRecoverError('RUN_LOCKED', `the lease of run ${run.id} changed meanwhile; look again with kms-recover status ${run.id}`, { runId: run.id });
  }
  // Recorded under the fence the takeover raised: if anyone took the run meanwhile, this write is refused.
  new FencedRun(session.store, run.id, token).note('lease.taken-over', {
    fromPid: holder.pid, fromHost: holder.host, since: holder.acquiredAt, heartbeatAt: holder.heartbeatAt, generation: holder.generation,
    by: 'takeover', liveness: verdict.liveness, silentMs: verdict.silentMs,
    confirmed: verdict.liveness === 'dead' ? 'holder dead on this host' : yes ? '--yes' : 'on the terminal',
    toHost: session.me.host,
  });
  return { runId: run.id, tookOver: holder, liveness: verdict.liveness };
}
