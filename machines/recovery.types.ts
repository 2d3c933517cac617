import type { FolderIdentity, Manifest, ServiceState } from '../domain/index.js';
import type { ErrorRecord } from '../errors/index.js';
import type { RecoveryState, StepName } from './recovery.order.js';

// The KB's order (states, steps, facts keys) lives in recovery.order.ts.
export { RECOVERY_STATES, STEP_OF_STATE, STEP_NAMES, FACTS_OF_STATE } from './recovery.order.js';
export type { RecoveryState, StepState, StepName, FactsKey } from './recovery.order.js';

/** What the backup held when preflight read it (the full file list lives in the store). */
export type ManifestSummary = Pick<Manifest, 'fileCount' | 'totalBytes' | 'digest'>;

export interface RecoveryInput {
  serviceName: string;
  kmsdata: string;
  backup: string;
  backupManifest: ManifestSummary;
  /**
   * The Kmsdata folder's identity: pinned at the start checks, then the one each restore leaves
   * (the staging copy renamed into place). Null for a run made before folders were pinned.
   */
  kmsdataIdentity: FolderIdentity | null;
  /** The steps the operator does by hand (`start --manual`): their states wait for a CONFIRM. */
  manual: StepName[];
}

// Facts each step reports about the real world; guards decide on these alone.
export interface ServiceFacts {
  serviceState: ServiceState;
  /** What the start's settle window proved (recovery/settle-window.ts): the start step's facts only. */
  settle?: Record<string, unknown>;
}
export interface ClearFacts {
  removed: number;
  remaining: number;
  /** Where the reinstall's Kmsdata files were moved; deleted once the run is `running`. */
  quarantine?: string;
}
export interface RestoreFacts {
  /** Kmsdata's identity after the restore. */
  identity?: FolderIdentity;
  /** The identity of kmsdata.edb the restore left: the KMS that runs must hold this very file. */
  database?: FolderIdentity | null;
  fileCount: number;
  totalBytes: number;
  digest: string;
  mismatches: string[];
  alreadyRestored: boolean;
  /**
   * The stamp of the restored files (each one's identity, size and times): a later check whose
   * files still have it need not read them again. Null or absent: every check hashes them.
   */
  stamp?: string | null;
}
/**
 * Where the alpha string came from and its length: never the string itself. `operator`: the
 * operator typed it into the service's start parameters (a manual step); its length is unknown.
 */
export interface CredentialFacts {
  source: 'startup-disk' | 'environment' | 'prompt' | 'operator';
  length: number | null;
}

export interface StepInputs {
  stopService: { serviceName: string };
  clearKmsdata: { serviceName: string; kmsdata: string; backup: string; kmsdataIdentity: FolderIdentity | null };
  restoreKmsdata: { serviceName: string; kmsdata: string; backup: string; kmsdataIdentity: FolderIdentity | null };
  setCredential: { serviceName: string; kmsdata: string; restoredStamp?: string | null };
  startService: { serviceName: string; kmsdata: string; backup?: string; restoredDatabase?: FolderIdentity | null; restoredStamp?: string | null };
}
export interface StepOutputs {
  stopService: ServiceFacts;
  clearKmsdata: ClearFacts;
  restoreKmsdata: RestoreFacts;
  setCredential: CredentialFacts;
  startService: ServiceFacts;
}

export interface StepError extends ErrorRecord {
  step: StepName;
}

export interface RecoveryContext extends RecoveryInput {
  facts: {
    stopped?: ServiceFacts;
    cleared?: ClearFacts;
    restored?: RestoreFacts;
    credential?: CredentialFacts;
    running?: ServiceFacts;
  };
  /** The error of the most recent failed step; cleared when a step succeeds. */
  lastError: StepError | null;
  /** How many times the operator sent the run back to an earlier state (`resume --from`). */
  rewinds: number;
  /** How many times the run found Kmsdata changed after its restore and redid the clear and the restore. */
  driftRedos: number;
  /** Manual steps the operator said are done (CONFIRM) and not yet undone by a rewind or a redo. */
  confirmed: StepName[];
}

/**
 * RETRY runs a failed step again. REWIND re-enters an earlier state, whose step and every later
 * one then run again through their guards: the machine only goes back, never forward. CONFIRM:
 * the operator did the manual step `step` (`kms-recover confirm`); the step then verifies it.
 */
export type RecoveryEvent = { type: 'RETRY' } | { type: 'REWIND'; to: RecoveryState } | { type: 'CONFIRM'; step: StepName };
