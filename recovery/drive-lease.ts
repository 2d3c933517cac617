import { KmsRecoverError } from '../errors/index.js';
import { databaseError, FencedRun, type LeaseHolder, type LeaseRecord, type RunLeases, type RunStore } from '../persistence/index.js';
import { interruptedError } from './interrupted.js';
import { HEARTBEAT_MS } from './lease-policy.js';
import type { Logger } from 'pino';

export interface HeldLease {
  fenced: FencedRun;
  token: number;
  /** The dead holder this process took the run from, if any. */
  tookOverFrom: LeaseRecord | null;
  /** Aborted when the lease is lost, the database fails, or the operator interrupts: its reason says which. */
  lost: AbortSignal;
  /** Stops the heartbeat and gives the lease back (best effort: a failed database lets it go stale). */
  release(): void;
}

/**
 * Takes the run's lease (raising its fence) and keeps it with a heartbeat. The drive ends when
 * the lease is lost (or the database fails): the steps' work stops at its next file or poll, and
 * no write of this driver is accepted any more. An interrupt ends it the same way, and the lease
 * is released, so `resume` needs no takeover.
 */
export function holdLease(options: {
  store: RunStore; leases: RunLeases; runId: string; me: LeaseHolder; isAlive: (holder: LeaseRecord) => boolean;
  dbPath: string; heartbeatMs?: number; interrupt?: AbortSignal; logger: Logger;
}): HeldLease {
  const { store, leases, runId } = options;
  const { token, tookOverFrom } = leases.acquire(runId, options.me, options.isAlive);
  const fenced = new FencedRun(store, runId, token);
  const lost = new AbortController();
  const heartbeat = setInterval(() => {
    try {
      if (!leases.heartbeat(runId, token)) {
        fenced.assertCurrent(); // throws LEASE_LOST naming who took the run
        throw new KmsRecoverError('LEASE_LOST', `the lease of run ${runId} is gone: this process stops without touching the server`, { runId });
      }
    } catch (error) {
      clearInterval(heartbeat);
      lost.abort(databaseError(error, options.dbPath));
    }
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();
  const onInterrupt = () => {
    const error = interruptedError(store.getRun(runId), options.interrupt?.reason);
    options.logger.warn({ runId, state: error.detail.state, step: error.detail.step, signal: error.detail.signal }, 'interrupted');
    lost.abort(error);
  };
  if (options.interrupt?.aborted) onInterrupt();
  else options.interrupt?.addEventListener('abort', onInterrupt, { once: true });
  return {
    fenced, token, tookOverFrom, lost: lost.signal,
    release() {
      clearInterval(heartbeat);
      options.interrupt?.removeEventListener('abort', onInterrupt);
      try {
        leases.release(runId, token);
      } catch {
        // A database that failed under the heartbeat may fail here too; the lease then goes stale.
      }
    },
  };
}
