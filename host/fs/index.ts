import { readdir } from 'node:fs/promises';
import type { KmsdataOperations } from '../types.js';
import { clearKmsdata, removeQuarantine, runFolders } from './clear-kmsdata.js';
import { claimServer, readServerClaim, releaseServerClaim } from './server-claim.js';
import { folderIdentity } from './pinned-folder.js';
import { checkRestorable } from './restorable.js';
import { assertBackupPath, assertKmsdataPath } from './kmsdata-path.js';
import { buildManifest, compareToManifest } from './manifest.js';
import { restoreKmsdata } from './restore-kmsdata.js';

/** The real-disk Kmsdata operations, shared by every host adapter. */
export const fsKmsdataOperations: KmsdataOperations = {
  checkKmsdataPath: (kmsdata) => assertKmsdataPath(kmsdata),
  checkBackupPath: (backup, kmsdata) => assertBackupPath(backup, kmsdata),
  manifest: (dir) => buildManifest(dir),
  clearKmsdata: (kmsdata, runId, options) => clearKmsdata(kmsdata, runId, options),
  removeQuarantine: (kmsdata, runId, ledger) => removeQuarantine(kmsdata, runId, ledger),
  kmsdataIdentity: async (kmsdata) => folderIdentity(await assertKmsdataPath(kmsdata)),
  checkRestorable: (kmsdata, manifest) => checkRestorable(kmsdata, manifest),
  runFolders: (kmsdata) => runFolders(kmsdata),
  claimServer: (kmsdata, claim) => claimServer(kmsdata, claim),
  readServerClaim: (kmsdata) => readServerClaim(kmsdata),
  releaseServerClaim: (kmsdata, runId) => releaseServerClaim(kmsdata, runId),
  restoreKmsdata: (backup, kmsdata, manifest, runId, options) => restoreKmsdata(backup, kmsdata, manifest, runId, options),
  checkBackupAgainstManifest: (backup, manifest) => compareToManifest(backup, manifest, { contents: false }),
  kmsdataEntries: async (kmsdata) => (await readdir(await assertKmsdataPath(kmsdata))).length,
  verifyKmsdata: async (kmsdata, manifest, options) => compareToManifest(await assertKmsdataPath(kmsdata), manifest, { onProgress: options?.onProgress, signal: options?.signal }),
};

export { assertBackupPath, assertKmsdataName, assertKmsdataPath, isInside, samePath } from './kmsdata-path.js';
export { buildManifest, compareToManifest, comparePaths, listTree, manifestDigest, sha256File } from './manifest.js';
export type { TreeEntry, TreeEntryKind } from './manifest.js';
export { clearKmsdata, quarantinePathFor, removeQuarantine, runFolders } from './clear-kmsdata.js';
export { restoreKmsdata, stagingPathFor, STAGING_PREFIX } from './restore-kmsdata.js';
export { CLAIM_FILE, claimPathFor } from './server-claim.js';
export { parseStartupDisk, readStartupDisk, validateAlphaString } from './startup-disk.js';
export { ALPHA_ENV_VAR, promptHidden, readAlphaString } from './credential-input.js';
export type { ReadAlphaOptions } from './credential-input.js';
