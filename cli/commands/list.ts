import { isLeaseHolderAlive } from '../../host/process-identity.js';
import { LEASE_STALE_AFTER_MS, type LeaseRecord } from '../../persistence/index.js';
import { printJson, printLine } from '../output.js';
import { openSession } from '../session.js';

/** Who drives a run: nobody, a live holder, or a stale one (dead here, or silent elsewhere). */
function driverOf(lease: LeaseRecord | null, now: number): { driver: string; stale: boolean } {
  if (!lease) return { driver: '-', stale: false };
  const silentMs = now - Date.parse(lease.heartbeatAt);
  if (!isLeaseHolderAlive(lease)) return { driver: `STALE: pid ${lease.pid} on ${lease.host} is dead`, stale: true };
  if (silentMs > LEASE_STALE_AFTER_MS) return { driver: `STALE: pid ${lease.pid} on ${lease.host}, no heartbeat for ${Math.round(silentMs / 1000)} s`, stale: true };
  return { driver: `pid ${lease.pid} on ${lease.host}`, stale: false };
}

export function listCommand(options: { db?: string; json?: boolean }): void {
  const session = openSession(options.db, { mustExist: true });
  try {
    const now = Date.now();
    const runs = [...session.store.listRuns()].map((r) => ({
      runId: r.id, state: r.state, phase: r.phase, done: r.phase === 'done', host: r.host, adapter: r.adapter,
      createdAt: r.createdAt, updatedAt: r.updatedAt, lease: r.lease, ...driverOf(r.lease, now),
    }));
    if (options.json) {
      printJson(runs);
      return;
    }
    if (runs.length === 0) {
      printLine('No runs yet.');
      return;
    }
    printLine(`${'RUN'.padEnd(10)}${'STATE'.padEnd(16)}${'PHASE'.padEnd(9)}${'UPDATED'.padEnd(26)}DRIVEN BY`);
    for (const r of runs) printLine(`${r.runId.padEnd(10)}${r.state.padEnd(16)}${r.phase.padEnd(9)}${r.updatedAt.padEnd(26)}${r.driver}`);
    if (runs.some((r) => r.stale)) printLine('A stale run can be resumed (dead holder on this host) or taken over: kms-recover takeover <run>');
  } finally {
    session.close();
  }
}
