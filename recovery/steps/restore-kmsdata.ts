import type { FolderIdentity } from '../../host/types.js';
import type { StepEffects, StepEnvironment } from './step-environment.js';
import { differencesWords, type ServerChecks } from './server-checks.js';

/** KB step 4: copy the backup into a staging folder, verify it, and rename it into place; after a confirm, Kmsdata is verified against the backup. */
export function restoreKmsdataStep(env: StepEnvironment, checks: ServerChecks): StepEffects<'restoreKmsdata'> {
  return {
    effect: async ({ serviceName, kmsdata, backup, kmsdataIdentity }, guard, track) => {
      await checks.ensureStopped(serviceName, 'restoreKmsdata', guard);
      // Kmsdata is the pinned folder, or the staging copy an interrupted restore had renamed into place.
      const promoting = env.store.promotingIdentity(env.runId);
      const expected = [kmsdataIdentity, promoting].filter((id): id is FolderIdentity => id != null);
      const report = await env.host.restoreKmsdata(backup, kmsdata, checks.backupManifest(), env.runId, {
        ...guard, expected,
        beforePromote: (identity) => { env.fenced.recordPromoting(identity); },
        onProgress: track('copy'),
      });
      // The file the KMS must hold once it runs: the settle window proves it is this one.
      return { ...report, database: await env.host.databaseIdentity(kmsdata) };
    },
    verifyManual: async ({ kmsdata }, guard, track) => {
      const manifest = checks.backupManifest();
      const check = await env.host.verifyKmsdata(kmsdata, manifest, { ...guard, onProgress: track('verify') });
      if (!check.matches) throw checks.unverified('restoreKmsdata', `${kmsdata} does not match the backup (${differencesWords(check.differences)})`);
      return {
        fileCount: manifest.fileCount, totalBytes: manifest.totalBytes, digest: manifest.digest, mismatches: [], alreadyRestored: true,
        database: await env.host.databaseIdentity(kmsdata), stamp: check.stamp ?? null,
      };
    },
  };
}
