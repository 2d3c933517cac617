import type { ProcessHolder } from '../domain/index.js';
import { momentWords } from '../domain/moment.js';
import { KmsRecoverError } from '../errors/index.js';
import type { Db } from './open-database.js';
import { translatingDatabaseErrors } from './database-errors.js';

/** The process holding a lease. */
export type LeaseHolder = ProcessHolder;

export interface LeaseRecord extends LeaseHolder {
  acquiredAt: string;
  heartbeatAt: string;
  /** The fencing token: raised on every acquire and takeover; every write of the holder carries it. */
  generation: number;
}

export interface AcquiredLease {
  /** The fencing token this driver writes with. */
  token: number;
  /** The dead holder this process took the run from, if any. */
  tookOverFrom: LeaseRecord | null;
}

interface LeaseRow {
  host: string; pid: number; process_start: string | null; acquired_at: string; heartbeat_at: string; generation: number;
}

function toLease(row: LeaseRow): LeaseRecord {
  return {
    host: row.host, pid: row.pid, processStart: row.process_start, acquiredAt: row.acquired_at,
    heartbeatAt: row.heartbeat_at, generation: row.generation,
  };
}

/** `run <id> is being driven by pid <pid> on <host> since <local time with its offset>`: how every refusal names a live driver. */
export function drivenBy(runId: string, lease: LeaseRecord): string {
  return `run ${runId} is being driven by pid ${lease.pid} on ${lease.host} since ${momentWords(lease.acquiredAt)}`;
}

export function sameHolder(a: LeaseHolder, b: LeaseHolder): boolean {
  return a.host === b.host && a.pid === b.pid && a.processStart === b.processStart;
}

export function leaseLost(runId: string, token: number, current: { fence: number } | undefined, holder: LeaseRecord | null): KmsRecoverError {
  const by = holder ? ` by pid ${holder.pid} on ${holder.host} at ${momentWords(holder.acquiredAt)}` : '';
  return new KmsRecoverError('LEASE_LOST',
    `run ${runId} was taken over${by} (lease generation ${current?.fence ?? '?'}, this process held ${token}): this process stops without touching the server; see kms-recover status ${runId}`,
    { runId, token, generation: current?.fence ?? null, holderPid: holder?.pid ?? null, holderHost: holder?.host ?? null });
}

/** What a lease method was doing, in the words of a DB_IO or DB_FULL error. */
const LEASE_OPERATIONS: Readonly<Record<string, string>> = {
  acquire: 'taking the run\'s lease', heartbeat: 'renewing the run\'s lease (heartbeat)', breakLease: 'taking the run over', release: 'releasing the run\'s lease',
};

/**
 * One driver per run, fenced. A lease held by a live process refuses a second driver; a lease
 * whose holder is gone is taken over. Every acquire and every takeover raises the run's fencing
 * generation (`runs.fence`), and a driver's writes are accepted only with the current one (RunStore
 * checks it in the same transaction), so a paused driver that wakes up finds its writes refused.
 * Liveness is asked of the caller (`isAlive`), so this module stays free of process calls.
 */
export class RunLeases {
  constructor(private readonly db: Db) {
    // Every SQLite error leaves a method as the tool's error naming the file and the operation.
    return translatingDatabaseErrors(this, db.name, LEASE_OPERATIONS, 'reading the run\'s lease');
  }

  holder(runId: string): LeaseRecord | null {
    const row = this.db.prepare('SELECT host, pid, process_start, acquired_at, heartbeat_at, generation FROM leases WHERE run_id = ?')
      .get(runId) as LeaseRow | undefined;
    return row ? toLease(row) : null;
  }

  acquire(runId: string, me: LeaseHolder, isAlive: (holder: LeaseRecord) => boolean): AcquiredLease {
    return this.db.transaction((): AcquiredLease => {
      const current = this.holder(runId);
      const mine = current !== null && sameHolder(current, me);
      if (current && !mine && isAlive(current)) {
        throw new KmsRecoverError('RUN_LOCKED', drivenBy(runId, current), { runId, pid: current.pid, host: current.host, since: current.acquiredAt });
      }
      const token = this.raiseFence(runId);
      const at = new Date().toISOString();
      this.db.prepare(`INSERT INTO leases (run_id, host, pid, process_start, acquired_at, heartbeat_at, generation) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, process_start = excluded.process_start,
          acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, generation = excluded.generation`)
        .run(runId, me.host, me.pid, me.processStart, at, at, token);
      return { token, tookOverFrom: current && !mine ? current : null };
    }).immediate();
  }

  /** True while this driver still holds the lease with `token`; false once it was taken over. */
  heartbeat(runId: string, token: number): boolean {
    return this.db.prepare('UPDATE leases SET heartbeat_at = ? WHERE run_id = ? AND generation = ?')
      .run(new Date().toISOString(), runId, token).changes === 1;
  }

  /**
   * Removes a lease whatever its holder (takeover after the operator's decision) and raises the
   * fence, so the old holder can write nothing more even before anyone else acquires the run.
   */
  /** The new fencing token when the lease was removed (the takeover records it under that token); null when it had changed. */
  breakLease(runId: string, expected: LeaseRecord): number | null {
    return this.db.transaction((): number | null => {
      const removed = this.db.prepare('DELETE FROM leases WHERE run_id = ? AND generation = ? AND acquired_at = ?')
        .run(runId, expected.generation, expected.acquiredAt).changes === 1;
      return removed ? this.raiseFence(runId) : null;
    }).immediate();
  }

  release(runId: string, token: number): void {
    this.db.prepare('DELETE FROM leases WHERE run_id = ? AND generation = ?').run(runId, token);
  }

  private raiseFence(runId: string): number {
    const row = this.db.prepare('UPDATE runs SET fence = fence + 1 WHERE id = ? RETURNING fence').get(runId) as { fence: number } | undefined;
    if (!row) throw new KmsRecoverError('RUN_NOT_FOUND', `no run "${runId}" in this database`, { runId });
    return row.fence;
  }
}
