import { KmsRecoverError } from '../../errors/index.js';
import type { StepEffects, StepEnvironment } from './step-environment.js';
import { namesWords } from '../../present/count-words.js';
import { differencesWords, type ServerChecks } from './server-checks.js';

/** KB step 3: move everything in Kmsdata into the run's quarantine, each entry recorded first; after a confirm, Kmsdata is found empty. */
export function clearKmsdataStep(env: StepEnvironment, checks: ServerChecks): StepEffects<'clearKmsdata'> {
  return {
    effect: async ({ serviceName, kmsdata, backup, kmsdataIdentity }, guard, track) => {
      // The only destructive step: only with this run's backup manifest in hand, the backup
      // still holding every file it listed, and the service stopped now.
      checks.assertManifestStored(checks.backupManifest());
      const check = await env.host.checkBackupAgainstManifest(backup, checks.backupManifest());
      if (!check.matches) {
        throw new KmsRecoverError('BACKUP_CHANGED',
          `backup ${backup} changed since it was checked (${differencesWords(check.differences)}): Kmsdata was not touched`,
          { backup, differences: check.differences.slice(0, 20) });
      }
      await checks.ensureStopped(serviceName, 'clearKmsdata', guard);
      const report = await env.host.clearKmsdata(kmsdata, env.runId, {
        ...guard, expected: kmsdataIdentity, record: (entries) => env.fenced.recordQuarantined(entries), onProgress: track('clear'),
      });
      return { removed: report.removed, remaining: report.remaining, quarantine: report.quarantine };
    },
    verifyManual: async ({ kmsdata }) => {
      const left = await env.host.kmsdataEntries(kmsdata);
      if (left.length > 0) throw checks.unverified('clearKmsdata', `${kmsdata} still holds ${namesWords(left)}`);
      return { removed: 0, remaining: 0 };
    },
  };
}
