import type { LeaseRecord, RunStore } from '../persistence/index.js';
import type { RecoveryState } from '../machines/recovery.order.js';
import type { RunPhase } from '../persistence/index.js';
import { driverOf } from './lease-policy.js';

/** One run as `list` shows it (and `list --json` prints it: fields are added, never renamed). */
export interface RunListRow {
  runId: string;
  state: RecoveryState;
  phase: RunPhase;
  done: boolean;
  host: string;
  adapter: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  lease: LeaseRecord | null;
  /** Who drives it, in words: `-`, `pid 123 on kms01`, or `STALE: …`. */
  driver: string;
  /** Its holder is gone (dead on this host) or silent too long (another host): resume or take it over. */
  stale: boolean;
}

/** Who drives a run, in words, and whether the holder is stale. */
function driverWords(lease: LeaseRecord | null, now: number): { driver: string; stale: boolean } {
  const view = driverOf(lease, now);
  switch (view.kind) {
    case 'nobody': return { driver: '-', stale: false };
    case 'dead': return { driver: `STALE: pid ${view.lease.pid} on ${view.lease.host} is dead`, stale: true };
    case 'silent': return { driver: `STALE: pid ${view.lease.pid} on ${view.lease.host}, no heartbeat for ${Math.round(view.silentMs / 1000)} s`, stale: true };
    case 'live': return { driver: `pid ${view.lease.pid} on ${view.lease.host}`, stale: false };
  }
}

/** The runs newest first (the `limit` newest, or all), one at a time as they are read. */
export function* runList(store: RunStore, limit: number | undefined, now: number = Date.now()): Generator<RunListRow> {
  for (const r of store.listRuns(limit)) {
    yield {
      runId: r.id, state: r.state, phase: r.phase, done: r.phase === 'done', host: r.host, adapter: r.adapter,
      createdAt: r.createdAt, updatedAt: r.updatedAt, closedAt: r.closedAt, lease: r.lease, ...driverWords(r.lease, now),
    };
  }
}
