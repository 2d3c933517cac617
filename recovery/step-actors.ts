import { fromPromise } from 'xstate';
import type { Logger } from 'pino';
import { KmsRecoverError } from '../errors/index.js';
import { failPoint } from '../host/fail-point.js';
import type { Host, Manifest } from '../host/types.js';
import type { RecoveryState, StepInputs, StepName, StepOutputs } from '../machines/index.js';
import type { RunStore } from '../persistence/index.js';
import type { AlphaString } from './alpha-string.js';
import type { ProgressSink } from './progress.js';

export interface StepEnvironment {
  runId: string;
  store: RunStore;
  host: Host;
  /** Null when the run was resumed without an alpha string; the credential steps then fail clearly. */
  alpha: AlphaString | null;
  progress: ProgressSink;
  logger: Logger;
}

/**
 * The real effects behind the machine's named actors. Each step:
 * 1. waits one microtask, so the checkpoint of entering its state is committed first (XState
 *    starts invoked actors before it notifies observers of the new snapshot);
 * 2. records write-ahead intent (`step.started`, attempt n), which also proves that checkpoint;
 * 3. re-checks the host before acting, so running it again after a crash is safe.
 */
export function stepActors(env: StepEnvironment) {
  let manifest: Manifest | undefined;
  const backupManifest = () => (manifest ??= env.store.manifest(env.runId));

  function step<K extends StepName>(name: K, state: RecoveryState, effect: (input: StepInputs[K]) => Promise<StepOutputs[K]>) {
    return fromPromise<StepOutputs[K], StepInputs[K]>(async ({ input }) => {
      await Promise.resolve();
      const attempt = env.store.beginStep(env.runId, state, name);
      env.logger.info({ runId: env.runId, state, step: name, attempt }, 'step started');
      env.progress.stepStarted(state, name, attempt);
      failPoint(`before-step:${name}`);
      const output = await effect(input);
      failPoint(`after-step:${name}`);
      return output;
    });
  }

  /**
   * The service must be stopped for every step between `stopped` and `credential-set`. After a
   * reboot it may run again although the checkpoint says otherwise: stop it, and say so.
   */
  async function ensureStopped(serviceName: string, step: StepName): Promise<boolean> {
    const status = await env.host.queryService(serviceName);
    if (status.state === 'stopped') return false;
    if (status.state === 'missing') {
      throw new KmsRecoverError('SERVICE_MISSING', `service ${serviceName} is no longer installed`, { service: serviceName });
    }
    env.store.note(env.runId, 'drift.service-running', { step, service: serviceName, serviceState: status.state });
    env.logger.warn({ runId: env.runId, step, serviceState: status.state }, 'service found running although the run had stopped it');
    env.progress.note(`${serviceName} was ${status.state} again (a reboot?): stopping it before ${step}`);
    const after = await env.host.stopService(serviceName);
    if (after.state !== 'stopped') {
      throw new KmsRecoverError('SERVICE_STOP_FAILED', `${serviceName} is ${after.state} and could not be stopped again`, { service: serviceName });
    }
    return true;
  }

  function assertManifestStored(manifest: Manifest): void {
    if (manifest.fileCount === 0 || !/^[0-9a-f]{64}$/.test(manifest.digest)) {
      throw new KmsRecoverError('BACKUP_INVALID', `run ${env.runId} has no verified backup manifest: refusing to clear Kmsdata`, { runId: env.runId });
    }
  }

  function requireAlpha(): AlphaString {
    if (!env.alpha) {
      throw new KmsRecoverError('CREDENTIAL_MISSING',
        'no alpha string: insert the startup disk (--startup-disk <Kmspwd.ini>) or set KMS_ALPHA_STRING, then run kms-recover resume');
    }
    return env.alpha;
  }

  return {
    stopService: step('stopService', 'reinstalled', async ({ serviceName }) => {
      await env.host.stopService(serviceName);
      const status = await env.host.queryService(serviceName);
      return { serviceState: status.state };
    }),

    clearKmsdata: step('clearKmsdata', 'stopped', async ({ serviceName, kmsdata, backup }) => {
      // The only destructive step: only with this run's backup manifest in hand, the backup
      // still holding every file it listed, and the service stopped now.
      assertManifestStored(backupManifest());
      const check = await env.host.checkBackupAgainstManifest(backup, backupManifest());
      if (!check.matches) {
        throw new KmsRecoverError('BACKUP_CHANGED',
          `backup ${backup} changed since it was checked (${check.differences.length} differences, e.g. ${check.differences[0]}): Kmsdata was not touched`,
          { backup, differences: check.differences.slice(0, 20) });
      }
      await ensureStopped(serviceName, 'clearKmsdata');
      const report = await env.host.clearKmsdata(kmsdata, env.runId);
      return { removed: report.removed, remaining: report.remaining, quarantine: report.quarantine };
    }),

    restoreKmsdata: step('restoreKmsdata', 'cleared', async ({ serviceName, kmsdata, backup }) => {
      await ensureStopped(serviceName, 'restoreKmsdata');
      const report = await env.host.restoreKmsdata(backup, kmsdata, backupManifest(), {
        onFileCopied: (_path, index) => failPoint(`restore-after-file:${index + 1}`),
      });
      return { ...report };
    }),

    setCredential: step('setCredential', 'restored', async ({ serviceName, kmsdata }) => {
      if (await ensureStopped(serviceName, 'setCredential')) {
        // The service ran on this Kmsdata while we were away: prove it is still the backup's.
        const check = await env.host.verifyKmsdata(kmsdata, backupManifest());
        if (!check.matches) {
          throw new KmsRecoverError('RESTORE_MISMATCH',
            `Kmsdata no longer matches the backup it was restored from (${check.differences.length} differences, e.g. ${check.differences[0]}): it was changed while the run was interrupted`,
            { differences: check.differences.slice(0, 20) });
        }
      }
      const alpha = requireAlpha();
      return { source: alpha.source, length: alpha.length };
    }),

    startService: step('startService', 'credential-set', async ({ serviceName }) => {
      const alpha = requireAlpha();
      await env.host.startService(serviceName, [alpha.reveal()]);
      const status = await env.host.queryService(serviceName);
      return { serviceState: status.state };
    }),
  };
}
