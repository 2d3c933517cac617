import { KmsRecoverError } from '../../errors/index.js';
import type { ChangeGuard, Manifest } from '../../host/types.js';
import type { StepInputs, StepName, StepOutputs } from '../../machines/index.js';
import type { AlphaString } from '../alpha-string.js';
import { manualActionAt } from '../manual-action.js';
import { settleSecondsOf, settleWindow } from '../settle-window.js';
import type { StepEnvironment, Track } from './step-environment.js';

/** `1 difference: a.edb (missing)` or `3 differences, e.g. a.edb (missing)`. */
export function differencesWords(differences: readonly string[]): string {
  return differences.length === 1 ? `1 difference: ${differences[0]}` : `${differences.length} differences, e.g. ${differences[0]}`;
}

/**
 * What the steps re-check on the server before they act (never a stored fact): the service
 * stopped, Kmsdata still as the restore left it, the backup's manifest in hand, the alpha
 * string given; and the settle window after a start. One set per drive (the manifest is read once).
 */
export function serverChecks(env: StepEnvironment) {
  let manifest: Manifest | undefined;
  const backupManifest = () => (manifest ??= env.store.manifest(env.runId));

  /**
   * A manual step the operator confirmed (the machine's CONFIRM) but that is not done on the
   * server: the machine goes back to waiting for the operator; the words say what was found.
   */
  function unverified(name: StepName, what: string): KmsRecoverError {
    const action = manualActionAt(name, env.options.manual ?? []);
    return new KmsRecoverError('MANUAL_STEP_UNVERIFIED', `the step is not done yet: ${what}`, { step: name, confirm: action.confirm });
  }

  /**
   * Before the operator gives the alpha string or starts the service, Kmsdata is checked as for
   * the tool's own steps (not once the operator has started the KMS on it: it is in use).
   */
  async function assertRestoredBeforeOperator(name: StepName, input: { serviceName: string; kmsdata: string; restoredStamp?: string | null }, guard: ChangeGuard, track: Track): Promise<void> {
    if ((await env.host.queryService(input.serviceName)).state !== 'running') await assertStillRestored(input, name, guard, track);
  }

  /**
   * The service must be stopped for every step between `stopped` and `credential-set`. After a
   * reboot it may run again although the checkpoint says otherwise: stop it, and say so.
   */
  async function ensureStopped(serviceName: string, step: StepName, guard: ChangeGuard): Promise<boolean> {
    const status = await env.host.queryService(serviceName);
    if (status.state === 'stopped') return false;
    if (status.state === 'missing') {
      throw new KmsRecoverError('SERVICE_MISSING', `service ${serviceName} is no longer installed`, { service: serviceName });
    }
    env.fenced.note('drift.service-running', { step, service: serviceName, serviceState: status.state });
    env.logger.warn({ runId: env.runId, step, serviceState: status.state }, 'service found running although the run had stopped it');
    env.progress.note(`${serviceName} was ${status.state} again (a reboot?): stopping it before ${step}`);
    guard.assertMayAct?.();
    const after = await env.host.stopService(serviceName, guard);
    if (after.state !== 'stopped') {
      throw new KmsRecoverError('SERVICE_STOP_FAILED', `${serviceName} is ${after.state} and could not be stopped again`, { service: serviceName });
    }
    return true;
  }

  /**
   * Facts in the checkpoint say what happened, not what is true now: before the alpha string is
   * given and before the service starts, Kmsdata must equal the backup's manifest (sizes and
   * SHA-256), on every attempt and resume. Read on the server each time: every file still the one
   * the restore wrote, with its size and times (the restore's stamp), or else every file hashed
   * again. A difference is drift: recorded, and the machine sends the run back to clear and
   * restore again.
   */
  async function assertStillRestored({ kmsdata, restoredStamp }: { kmsdata: string; restoredStamp?: string | null }, step: StepName, guard: ChangeGuard, track: Track): Promise<void> {
    const check = await env.host.verifyKmsdata(kmsdata, backupManifest(), { ...guard, onProgress: track('verify'), unchangedSince: restoredStamp ?? null });
    if (check.matches) {
      // Said in the run's record (history, report), not only the log: what was proved, and how.
      if (check.by) env.fenced.note('kmsdata.checked', { step, by: check.by, files: backupManifest().fileCount });
      env.logger.info({ runId: env.runId, step, by: check.by }, check.by === 'identity'
        ? 'Kmsdata checked: every file is the one the restore wrote, unchanged since (identity, size and times)'
        : 'Kmsdata checked: every file hashed and equal to the backup');
      return;
    }
    const differences = check.differences.slice(0, 20);
    env.fenced.note('drift.kmsdata', { step, differences, count: check.differences.length });
    env.logger.warn({ runId: env.runId, step, differences: check.differences.length }, 'Kmsdata differs from the backup after the restore');
    env.progress.note(`${kmsdata} differs from the backup (${differencesWords(check.differences)}): clearing and restoring it again`);
    throw new KmsRecoverError('KMSDATA_DRIFT',
      `Kmsdata no longer matches the backup it was restored from (${differencesWords(check.differences)}): something changed it after the restore; the run clears and restores it again, and stops if it keeps changing`,
      { step, differences });
  }

  function assertManifestStored(manifest: Manifest): void {
    if (manifest.fileCount === 0 || !/^[0-9a-f]{64}$/.test(manifest.digest)) {
      throw new KmsRecoverError('BACKUP_INVALID', `run ${env.runId} has no verified backup manifest: refusing to clear Kmsdata`, { runId: env.runId });
    }
  }

  /** When this run last asked the service to start (its errors count from then); now if it never did. */
  function startRequestedAt(): Date {
    const at = env.store.startRequestedAt(env.runId);
    return at === null ? new Date() : new Date(at);
  }

  /**
   * The settle window: the KMS must keep running, on the restored database, without an error,
   * for the run's window; what it proved is the start step's facts.
   */
  async function settled(input: StepInputs['startService'], since: Date, alpha: string | null, guard: ChangeGuard, track: Track): Promise<StepOutputs['startService']> {
    const seconds = settleSecondsOf(env.options);
    env.progress.note(`${input.serviceName} reports running: watching it for ${seconds} s (settle window) before the run is running`);
    const proof = await settleWindow({
      host: env.host, serviceName: input.serviceName, kmsdata: input.kmsdata, since, seconds,
      restoredDatabase: input.restoredDatabase ?? null,
      backupDatabaseId: input.backup ? await env.host.databaseIdOf(input.backup) : null,
      alpha, signal: guard.signal ?? new AbortController().signal, onProgress: track('settle'),
    });
    env.logger.info({ runId: env.runId, settle: proof }, 'settle window passed');
    return { serviceState: 'running', settle: { ...proof } };
  }

  async function requireAlpha(): Promise<AlphaString> {
    const alpha = await env.alpha();
    if (!alpha) {
      throw new KmsRecoverError('CREDENTIAL_MISSING',
        'no alpha string: insert the startup disk (--startup-disk <Kmspwd.ini>) or set KMS_ALPHA_STRING, then run kms-recover resume');
    }
    return alpha;
  }

  return {
    backupManifest, unverified, assertRestoredBeforeOperator, ensureStopped, assertStillRestored, assertManifestStored, startRequestedAt, settled, requireAlpha,
  };
}

export type ServerChecks = ReturnType<typeof serverChecks>;
