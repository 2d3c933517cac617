import { driverOf as driverView } from '../../recovery/lease-policy.js';
import type { LeaseRecord } from '../../persistence/index.js';
import { printJson, printLine } from '../output.js';
import { openSession } from '../session.js';

/** Who drives a run: nobody, a live holder, or a stale one (dead here, or silent elsewhere). */
function driverOf(lease: LeaseRecord | null, now: number): { driver: string; stale: boolean } {
  const view = driverView(lease, now);
  switch (view.kind) {
    case 'nobody': return { driver: '-', stale: false };
    case 'dead': return { driver: `STALE: pid ${view.lease.pid} on ${view.lease.host} is dead`, stale: true };
    case 'silent': return { driver: `STALE: pid ${view.lease.pid} on ${view.lease.host}, no heartbeat for ${Math.round(view.silentMs / 1000)} s`, stale: true };
    case 'live': return { driver: `pid ${view.lease.pid} on ${view.lease.host}`, stale: false };
  }
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
