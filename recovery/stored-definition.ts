import { createActor } from '../machines/xstate-runtime.js';
import { KmsRecoverError } from '../errors/index.js';
import { isRestorableSnapshot, MACHINE_VERSION, positionOfStored, migrateSnapshot, recoveryMachine, type MigrationFacts, type RecoveryInput } from '../machines/index.js';
import { parseContext, type FencedRun, type RunRecord } from '../persistence/index.js';
import { definitionHash } from './definition-hash.js';

/*
 * Whether a stored run can be driven by this build's definition: the same version and structure,
 * an older version with an explicit migration, or refused with what to do.
 */

/**
 * A run made by an older definition is migrated through the explicit steps in machines/; a
 * newer one, or the same version with another structure, is refused with what to do.
 */
export function assertDefinitionUsable(run: RunRecord): void {
  if (run.machineVersion > MACHINE_VERSION) {
    throw new KmsRecoverError('DEFINITION_MISMATCH',
      `run ${run.id} was made by definition v${run.machineVersion}; this is v${MACHINE_VERSION}; finish it with the kms-recover that started it (or a newer one)`,
      { runId: run.id });
  }
  if (run.machineVersion < MACHINE_VERSION && migrateSnapshot(run.snapshot, run.machineVersion, MACHINE_VERSION, migrationFacts(run)) === null) {
    throw new KmsRecoverError('DEFINITION_MISMATCH',
      `run ${run.id} was made by definition v${run.machineVersion}; this is v${MACHINE_VERSION}; no migration exists between them: finish it with the kms-recover that started it`,
      { runId: run.id });
  }
  if (run.machineVersion === MACHINE_VERSION && run.definitionHash !== definitionHash()) {
    throw new KmsRecoverError('DEFINITION_MISMATCH',
      `run ${run.id} was made by definition v${run.machineVersion} (${run.definitionHash}); this is v${MACHINE_VERSION} (${definitionHash()}), changed without a version bump; finish it with the kms-recover that started it`,
      { runId: run.id });
  }
}

/** Migrates an older run's snapshot to this definition, recorded (`definition.migrated`) under the driver's fence. */
export function migrateDefinition(fenced: FencedRun, run: RunRecord): void {
  if (run.machineVersion >= MACHINE_VERSION) return;
  const snapshot = migrateSnapshot(run.snapshot, run.machineVersion, MACHINE_VERSION, migrationFacts(run));
  // A migration may move the run within its state (v4 -> v5: `failed` at a manual step is `waiting`).
  const position = positionOfStored(snapshot);
  fenced.migrateDefinition({ machineVersion: MACHINE_VERSION, definitionHash: definitionHash(), snapshot, phase: position.phase },
    { fromVersion: run.machineVersion, toVersion: MACHINE_VERSION, fromHash: run.definitionHash });
  run.snapshot = snapshot;
  run.context = parseContext(run.id, snapshot);
  run.machineVersion = MACHINE_VERSION;
  run.phase = position.phase;
}

/** What the migrations read of the run beside its snapshot. */
function migrationFacts(run: RunRecord): MigrationFacts {
  return { manual: run.options.manual ?? [] };
}

/** The machine's input for a stored run: XState restores the snapshot and ignores it, but the typings want one. */
export function inputOf(run: RunRecord): RecoveryInput {
  return { ...run.params, kmsdataIdentity: run.context.kmsdataIdentity, manual: run.options.manual ?? [] };
}

/** The run's stored snapshot, as XState can restore it; anything else is refused naming the run. */
export function storedSnapshot(run: RunRecord) {
  if (!isRestorableSnapshot(run.snapshot)) {
    throw new KmsRecoverError('DEFINITION_MISMATCH', `run ${run.id} has a snapshot this definition cannot read (no status)`, { runId: run.id });
  }
  return run.snapshot;
}

/**
 * XState resolves a stored snapshot against today's state nodes and throws deep inside on a
 * name it does not know: turn that into a clear refusal.
 */
export function restoreActor<T>(create: () => T, runId: string): T {
  try {
    return create();
  } catch (error) {
    throw new KmsRecoverError('DEFINITION_MISMATCH', `run ${runId} has a snapshot this definition cannot read (${error instanceof Error ? error.message : String(error)})`, { runId });
  }
}

/** The run's machine snapshot now (an actor created from the stored snapshot, not started: nothing runs). */
export function currentSnapshot(run: RunRecord) {
  return restoreActor(() => createActor(recoveryMachine, { snapshot: storedSnapshot(run), input: inputOf(run) }), run.id).getSnapshot();
}
