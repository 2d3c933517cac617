import type { RunSituation } from '../domain/index.js';
import type { LeaseRecord, RunQueries } from '../persistence/index.js';
import type { RecoveryState } from '../machines/recovery.order.js';
import type { RunPhase } from '../persistence/index.js';
import { standingOf } from './run-situation.js';

/** One run as `list` shows it (and `list --json` prints it: fields are added, never renamed). */
export interface RunListRow {
  runId: string;
  state: RecoveryState;
  phase: RunPhase;
  /** Where the run stands, by the one rule (run-situation.ts): what `status` says of it too. */
  situation: RunSituation;
  /** The one next action, as `status` gives it (a superseded claim is read by `status` alone: it looks at the server). */
  next: string | null;
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

/** The runs newest first (the `limit` newest, or all), one at a time as they are read. */
export function* runList(store: RunQueries, limit: number | undefined, now: number = Date.now()): Generator<RunListRow> {
  for (const r of store.listRuns(limit)) {
    const standing = standingOf({ id: r.id, state: r.state, phase: r.phase, closedAt: r.closedAt, manual: r.options.manual ?? [], kmsdata: r.params.kmsdata, startupDisk: r.options.startupDisk ?? null, lastError: r.lastError, alphaFrom: r.alphaFrom }, r.lease, r.timer, now);
    const view = standing.driver;
    const driver = view.kind === 'nobody' ? '-'
      : view.kind === 'live' ? `pid ${view.lease.pid} on ${view.lease.host}`
        : view.kind === 'dead' ? `STALE: pid ${view.lease.pid} on ${view.lease.host} is dead`
          : `STALE: pid ${view.lease.pid} on ${view.lease.host}, no heartbeat for ${Math.round(view.silentMs / 1000)} s`;
    yield {
      runId: r.id, state: r.state, phase: r.phase, situation: standing.situation, next: standing.next, done: r.phase === 'done', host: r.host, adapter: r.adapter,
      createdAt: r.createdAt, updatedAt: r.updatedAt, closedAt: r.closedAt, lease: r.lease, driver, stale: view.kind === 'dead' || view.kind === 'silent',
    };
  }
}
