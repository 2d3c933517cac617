import { KmsRecoverError } from '../../errors/index.js';
import { holderIsAlive, leaseStaleAfterMs } from '../../recovery/lease-policy.js';
import { confirmOrRefuse } from '../confirm-prompt.js';
import { printJson, printLine } from '../output.js';
import { openSession } from '../session.js';

/**
 * Takes a run's lease from a holder that no longer drives it. A dead process on this host is
 * certain; a holder on another host is only presumed dead from its silent heartbeat, so that
 * needs the operator's confirmation. Recorded in the event log either way.
 */
export async function takeoverCommand(runId: string, options: { db?: string; yes?: boolean; json?: boolean }): Promise<void> {
  const session = openSession(options.db, { mustExist: true, forWriting: true });
  try {
    const run = session.store.getRun(runId);
    const holder = session.leases.holder(run.id);
    if (!holder) {
      if (!options.json) printLine(`Run ${run.id} has no lease holder: nothing to take over. Continue with: kms-recover resume ${run.id}`);
      else printJson({ runId: run.id, tookOver: null });
      return;
    }
    const sameHost = holder.host === session.me.host;
    const silentMs = Date.now() - Date.parse(holder.heartbeatAt);
    if (sameHost && holderIsAlive(holder)) {
      throw new KmsRecoverError('RUN_LOCKED', `run ${run.id} is being driven by pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt}; that process is alive`, { runId: run.id });
    }
    if (!sameHost) {
      if (silentMs < leaseStaleAfterMs()) {
        throw new KmsRecoverError('RUN_LOCKED',
          `run ${run.id} is being driven by pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt}; its last heartbeat was ${Math.round(silentMs / 1000)} s ago`,
          { runId: run.id });
      }
      await confirmOrRefuse(
        `Run ${run.id} is leased by pid ${holder.pid} on ${holder.host}, silent for ${Math.round(silentMs / 1000)} s. Make sure nothing runs there any more. Take the run over?`,
        options.yes);
    }
    if (!session.leases.breakLease(run.id, holder)) {
      throw new KmsRecoverError('RUN_LOCKED', `the lease of run ${run.id} changed meanwhile; look again with kms-recover status ${run.id}`, { runId: run.id });
    }
    session.store.note(run.id, 'lease.taken-over', {
      fromPid: holder.pid, fromHost: holder.host, since: holder.acquiredAt, heartbeatAt: holder.heartbeatAt, generation: holder.generation,
      by: 'takeover', confirmed: sameHost ? 'holder dead on this host' : options.yes ? '--yes' : 'on the terminal',
      toHost: session.me.host,
    });
    if (options.json) printJson({ runId: run.id, tookOver: holder });
    else printLine(`Took run ${run.id} over from pid ${holder.pid} on ${holder.host}. Continue with: kms-recover resume ${run.id}`);
  } finally {
    session.close();
  }
}
