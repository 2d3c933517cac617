import type { ErrorRecord } from '../errors/index.js';
import { KB_STEPS, RECOVERY_STATES, type RecoveryState } from '../machines/index.js';
import type { EventRecord, LeaseRecord, RunRecord } from '../persistence/index.js';

export interface RunStatus {
  runId: string;
  host: string;
  adapter: string;
  machineVersion: number;
  kmsdata: string | null;
  backup: string | null;
  state: string;
  phase: string;
  /** True once the run reached `running`: nothing is left to do. */
  done: boolean;
  /** Each of the six states with the time it was first reached (null: not yet). */
  steps: { state: RecoveryState; kbSteps: string; reachedAt: string | null }[];
  /** State changes, oldest first: the run's creation (from null), then every transition. */
  history: { from: string | null; to: string; at: string; event: string }[];
  lastError: ErrorRecord | null;
  /** What the operator does next, in the KB's words. */
  next: string | null;
  lease: LeaseRecord | null;
  createdAt: string;
  updatedAt: string;
}

interface SnapshotView {
  context?: { kmsdata?: string; backup?: string; lastError?: ErrorRecord | null };
}

export function runStatus(run: RunRecord, events: EventRecord[], lease: LeaseRecord | null): RunStatus {
  const history = events
    .filter((e) => e.from === null || e.from !== e.to)
    .map((e) => ({ from: e.from, to: e.to, at: e.at, event: e.event }));
  const firstReached = new Map<string, string>();
  for (const h of history) if (!firstReached.has(h.to)) firstReached.set(h.to, h.at);
  const context = (run.snapshot as SnapshotView).context ?? {};
  const lastError = context.lastError ?? null;
  const done = run.phase === 'done';
  return {
    runId: run.id,
    host: run.host,
    adapter: run.adapter,
    machineVersion: run.machineVersion,
    kmsdata: context.kmsdata ?? null,
    backup: context.backup ?? null,
    state: run.state,
    phase: run.phase,
    done,
    steps: RECOVERY_STATES.map((state) => ({ state, kbSteps: KB_STEPS[state].kbSteps, reachedAt: firstReached.get(state) ?? null })),
    history,
    lastError: run.phase === 'failed' ? lastError : null,
    next: nextAction(run, lastError),
    lease,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
}

function nextAction(run: RunRecord, lastError: ErrorRecord | null): string | null {
  const kb = KB_STEPS[run.state as RecoveryState];
  if (!kb || kb.next === null) return null;
  if (run.phase !== 'failed') return `${kb.next} Run: kms-recover resume ${run.id}`;
  if (lastError && ['ALPHA_REJECTED', 'CREDENTIAL_MISSING', 'ALPHA_INVALID', 'STARTUP_DISK_INVALID', 'STARTUP_DISK_MISSING'].includes(lastError.code)) {
    return `${kb.next} Insert the startup disk of the ORIGINAL Key Management Server or set KMS_ALPHA_STRING to its alpha string, then run: kms-recover resume ${run.id} --startup-disk <Kmspwd.ini>`;
  }
  return `Fix the cause above, then retry: kms-recover resume ${run.id} (${kb.next})`;
}
