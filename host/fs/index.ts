import { readdir } from 'node:fs/promises';
import { failPoint, stallPoint } from '../fail-point.js';
import type { KmsdataOperations } from '../types.js';
import { recordRecovery, recoveryRecordNow } from './recovery-record.js';
import { claimServer, readServerClaim, releaseServerClaim, serverClaimNow } from './server-claim.js';

/*
 * Each operation loads its implementation on first use. Before a resumed run's first step starts
 * it needs only the server's claim (and the startup disk, credential-input.ts); the step loads
 * its own code as it begins (bench/resume-latency.mjs: ~2% of a resume's time to its step).
 */
const paths = () => import('./kmsdata-path.js');
const manifests = () => import('./manifest.js');
const clearing = () => import('./clear-kmsdata.js');

/** The real-disk Kmsdata operations, shared by every host adapter. */
export const fsKmsdataOperations: KmsdataOperations = {
  checkKmsdataPath: async (kmsdata) => (await paths()).assertKmsdataPath(kmsdata),
  checkBackupPath: async (backup, kmsdata) => (await paths()).assertBackupPath(backup, kmsdata),
  checkTreesApart: async (request) => (await import('./tree-identity.js')).assertTreesApart(request),
  checkOneVolume: async (kmsdata) => (await import('./tree-identity.js')).assertOneVolume(kmsdata),
  manifest: async (dir) => (await manifests()).buildManifest(dir),
  clearKmsdata: async (kmsdata, runId, options) => (await clearing()).clearKmsdata(kmsdata, runId, options),
  removeQuarantine: async (kmsdata, runId, ledger) => (await import('./remove-quarantine.js')).removeQuarantine(kmsdata, runId, ledger),
  kmsdataIdentity: async (kmsdata) => {
    const [{ assertKmsdataPath }, { folderIdentity }] = await Promise.all([paths(), import('./pinned-folder.js')]);
    return folderIdentity(await assertKmsdataPath(kmsdata));
  },
  checkRestorable: async (kmsdata, manifest) => (await import('./restorable.js')).checkRestorable(kmsdata, manifest),
  runFolders: async (kmsdata) => (await clearing()).runFolders(kmsdata),
  claimServer: (kmsdata, claim) => claimServer(kmsdata, claim),
  readServerClaim: (kmsdata) => readServerClaim(kmsdata),
  releaseServerClaim: (kmsdata, runId) => releaseServerClaim(kmsdata, runId),
  serverClaimNow: (kmsdata) => serverClaimNow(kmsdata),
  recoveryRecordNow: (kmsdata) => recoveryRecordNow(kmsdata),
  recordRecovery: (kmsdata, record) => recordRecovery(kmsdata, record),
  restoreKmsdata: async (backup, kmsdata, manifest, runId, options) => (await import('./restore-kmsdata.js')).restoreKmsdata(backup, kmsdata, manifest, runId, {
    ...options,
    // The crash tests' fail points after each file (host/fail-point.ts; off unless set).
    onFileCopied: (_path, index) => { failPoint(`restore-after-file:${index + 1}`); return stallPoint(`restore-after-file:${index + 1}`); },
  }),
  checkBackupAgainstManifest: async (backup, manifest) => (await manifests()).compareToManifest(backup, manifest, { contents: false, stamp: false }),
  kmsdataEntries: async (kmsdata) => (await readdir(await (await paths()).assertKmsdataPath(kmsdata))).sort(),
  verifyKmsdata: async (kmsdata, manifest, options) => {
    const [{ assertKmsdataPath }, { compareToManifest }] = await Promise.all([paths(), manifests()]);
    return compareToManifest(await assertKmsdataPath(kmsdata), manifest, { onProgress: options?.onProgress, signal: options?.signal, unchangedSince: options?.unchangedSince });
  },
};

// The implementations themselves: import them from their modules (kmsdata-path.ts, manifest.ts,
// clear-kmsdata.ts, restore-kmsdata.ts), so that importing this one stays light.
export { CLAIM_FILE, claimPathFor } from './server-claim.js';
export { RECOVERY_RECORD_FILE } from './recovery-record.js';
export { parseStartupDisk, readStartupDisk, validateAlphaString } from './startup-disk.js';
export { ALPHA_ENV_VAR, promptHidden, readAlphaString } from './credential-input.js';
export type { ReadAlphaOptions } from './credential-input.js';
