import { ALPHA_STRING_LENGTH } from '../domain/index.js';
import type { ClearFacts, CredentialFacts, ManifestSummary, RestoreFacts, ServiceFacts } from './recovery.types.js';


// Each guard looks only at the facts a step reported; the step itself re-checks the host.

export function serviceIsStopped(facts: ServiceFacts): boolean {
  return facts.serviceState === 'stopped';
}

export function kmsdataIsEmpty(facts: ClearFacts): boolean {
  return facts.remaining === 0;
}

export function restoreMatchesBackup(facts: RestoreFacts, backup: ManifestSummary): boolean {
  return facts.mismatches.length === 0
    && facts.fileCount === backup.fileCount
    && facts.totalBytes === backup.totalBytes
    && facts.digest === backup.digest;
}

/** The tool's own alpha string must be 14 characters; one the operator typed in is taken on trust. */
export function credentialIsWellFormed(facts: CredentialFacts): boolean {
  return facts.source === 'operator' ? facts.length === null : facts.length === ALPHA_STRING_LENGTH;
}

export function serviceIsRunning(facts: ServiceFacts): boolean {
  return facts.serviceState === 'running';
}

/**
 * The KMS refused the alpha string at its start: the credential step must be redone, not the
 * start alone. One that reported RUNNING and stopped within the settle window rests at
 * `credential-set`: `resume` starts it again with the alpha string it is given.
 */
export function alphaWasRejected(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, detail } = error as { code?: unknown; detail?: unknown };
  const late = typeof detail === 'object' && detail !== null && (detail as { when?: unknown }).when === 'settle';
  return code === 'ALPHA_REJECTED' && !late;
}

/** REWIND is taken only to the state it names; each state lists only the states before it. */
export function rewindTargetIs(requested: string, target: string): boolean {
  return requested === target;
}

/** After this many redos of the clear and the restore, a Kmsdata that keeps changing stops the run. */
export const MAX_DRIFT_REDOS = 3;

/**
 * Kmsdata is not what the restore left (changed, or written into after the clear): the clear and
 * the restore are redone, which is safe (the backup is verified, the service stopped), a bounded
 * number of times.
 */
export function kmsdataDrifted(error: unknown, redos: number): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return (code === 'KMSDATA_DRIFT' || code === 'KMSDATA_NOT_EMPTY') && redos < MAX_DRIFT_REDOS;
}

/** A manual step's verification found it not done: the run goes back to waiting for the operator, no attempt spent. */
export function operatorStepNotDone(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'MANUAL_STEP_UNVERIFIED';
}
