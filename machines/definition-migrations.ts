/**
 * Explicit migrations of persisted snapshots between machine definitions, one function per
 * version step, keyed by the version it migrates FROM. XState has no versioning: a snapshot is
 * resolved against today's state nodes as it stands, so every change of states, context or
 * actor names gets a step here (or the run is refused with a clear message).
 */
import { isRecoveryState, stepOf, type StepName } from './recovery.order.js';

/** What a migration may need that the old snapshot does not hold: the run's stored parameters. */
export interface MigrationFacts {
  /** The run's manual steps (`start --manual`), as its options store them. */
  manual: readonly StepName[];
}

type PersistedChild = { snapshot?: { input?: Record<string, unknown> | null; [key: string]: unknown }; [key: string]: unknown };
type PersistedSnapshot = { value: unknown; context: Record<string, unknown>; children?: Record<string, PersistedChild>; [key: string]: unknown };

/** v1 → v2: REWIND (`resume --from`) arrived, and the context counts rewinds. States are unchanged. */
function v1ToV2(snapshot: PersistedSnapshot): PersistedSnapshot {
  return { ...snapshot, context: { ...snapshot.context, rewinds: 0 } };
}

/**
 * v2 → v3: Kmsdata drift sends the run back to `stopped` (clear and restore again), counted in
 * the context; the folder's identity is pinned (unknown for a run made before: null). States are
 * unchanged.
 */
function v2ToV3(snapshot: PersistedSnapshot): PersistedSnapshot {
  // A step in flight keeps the input it was invoked with: give it what v3's steps read.
  const children = Object.fromEntries(Object.entries(snapshot.children ?? {}).map(([id, child]) => {
    const inner = child.snapshot;
    if (!inner || typeof inner.input !== 'object' || inner.input === null) return [id, child];
    const input = { ...inner.input, kmsdata: inner.input.kmsdata ?? snapshot.context.kmsdata, ...(id === 'clearKmsdata' || id === 'restoreKmsdata' ? { kmsdataIdentity: null } : {}) };
    return [id, { ...child, snapshot: { ...inner, input } }];
  }));
  return { ...snapshot, children, context: { ...snapshot.context, driftRedos: 0, kmsdataIdentity: null } };
}

/**
 * v3 → v4: states, steps and context are unchanged; the definition hash is now taken of the
 * machine's structure (recovery.structure.ts) instead of the diagrams' graph, so a v3 run's
 * stored hash is replaced by this one.
 */
function v3ToV4(snapshot: PersistedSnapshot): PersistedSnapshot {
  return snapshot;
}

/** The code of a stored error record, if it has one. */
function errorCodeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
}

/**
 * v4 → v5: waiting for the operator is a state. A v4 run at a manual step rested in `failed` with
 * MANUAL_STEP_PENDING; v5 rests in `waiting` and leaves it with CONFIRM. A v4 run at a manual
 * step it was still `working` on (a crash before the step asked for the operator, or while it
 * verified a confirm) waits for the operator again: a confirm is cheap, and the step verifies
 * on the server what was done either way. The context learns the manual steps (from the run's
 * options) and the confirmations (none hold across the upgrade).
 */
function v4ToV5(snapshot: PersistedSnapshot, facts: MigrationFacts): PersistedSnapshot {
  const manual = [...facts.manual];
  const context = { ...snapshot.context, manual, confirmed: [] };
  const [state, sub] = typeof snapshot.value === 'object' && snapshot.value !== null ? Object.entries(snapshot.value)[0] ?? [] : [];
  const step = typeof state === 'string' && isRecoveryState(state) ? stepOf(state) : null;
  const pending = step !== null && manual.includes(step)
    && (sub === 'working' || (sub === 'failed' && errorCodeOf(snapshot.context.lastError) === 'MANUAL_STEP_PENDING'));
  if (!pending || !state) return { ...snapshot, context };
  const children = Object.fromEntries(Object.entries(snapshot.children ?? {}).filter(([id]) => id !== step));
  return { ...snapshot, value: { [state]: 'waiting' }, children, context: { ...context, lastError: null } };
}

export const DEFINITION_MIGRATIONS: Readonly<Record<number, (snapshot: PersistedSnapshot, facts: MigrationFacts) => PersistedSnapshot>> = {
  1: v1ToV2,
  2: v2ToV3,
  3: v3ToV4,
  4: v4ToV5,
};

/** Applies every step from `from` up to `to`; null when some step is missing. */
export function migrateSnapshot(snapshot: unknown, from: number, to: number, facts: MigrationFacts): unknown | null {
  let current = snapshot as PersistedSnapshot;
  for (let version = from; version < to; version += 1) {
    const step = DEFINITION_MIGRATIONS[version];
    if (!step) return null;
    current = step(current, facts);
  }
  return current;
}
