import { KmsRecoverError } from '../errors/index.js';
import type { Db } from './open-database.js';

/** A lease whose heartbeat is older than this is stale: its holder stopped beating (every 2 s). */
export const LEASE_STALE_AFTER_MS = 60_000;

export interface LeaseHolder {
  host: string;
  pid: number;
}

export interface LeaseRecord extends LeaseHolder {
  acquiredAt: string;
  heartbeatAt: string;
}

export interface AcquiredLease {
  /** The dead holder this process took the run from, if any. */
  tookOverFrom: LeaseRecord | null;
}

/**
 * One driver per run. A lease held by a live process refuses a second driver; a lease whose
 * process is gone on this host is taken over. Liveness is asked of the caller (`isAlive`), so
 * this module stays free of process calls.
 */
export class RunLeases {
  constructor(private readonly db: Db) {}

  holder(runId: string): LeaseRecord | null {
    const row = this.db.prepare('SELECT host, pid, acquired_at, heartbeat_at FROM leases WHERE run_id = ?').get(runId) as
      { host: string; pid: number; acquired_at: string; heartbeat_at: string } | undefined;
    return row ? { host: row.host, pid: row.pid, acquiredAt: row.acquired_at, heartbeatAt: row.heartbeat_at } : null;
  }

  acquire(runId: string, me: LeaseHolder, isAlive: (holder: LeaseRecord) => boolean): AcquiredLease {
    return this.db.transaction((): AcquiredLease => {
      const current = this.holder(runId);
      const at = new Date().toISOString();
      if (current && !(current.host === me.host && current.pid === me.pid)) {
        if (isAlive(current)) {
          throw new KmsRecoverError('RUN_LOCKED',
            `run ${runId} is being driven by pid ${current.pid} on ${current.host} since ${current.acquiredAt}`,
            { runId, pid: current.pid, host: current.host, since: current.acquiredAt });
        }
      }
      this.db.prepare(`INSERT INTO leases (run_id, host, pid, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (run_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`)
        .run(runId, me.host, me.pid, at, at);
      const tookOver = current && !(current.host === me.host && current.pid === me.pid) ? current : null;
      return { tookOverFrom: tookOver };
    }).immediate();
  }

  heartbeat(runId: string, me: LeaseHolder): void {
    this.db.prepare('UPDATE leases SET heartbeat_at = ? WHERE run_id = ? AND host = ? AND pid = ?')
      .run(new Date().toISOString(), runId, me.host, me.pid);
  }

  /** Removes a lease whatever its holder (takeover after the operator's decision). */
  breakLease(runId: string, expected: LeaseRecord): boolean {
    return this.db.prepare('DELETE FROM leases WHERE run_id = ? AND host = ? AND pid = ? AND acquired_at = ?')
      .run(runId, expected.host, expected.pid, expected.acquiredAt).changes === 1;
  }

  release(runId: string, me: LeaseHolder): void {
    this.db.prepare('DELETE FROM leases WHERE run_id = ? AND host = ? AND pid = ?').run(runId, me.host, me.pid);
  }
}
