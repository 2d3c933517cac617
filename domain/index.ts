export { KMS_SERVICE_NAME, ALPHA_STRING_LENGTH, STARTUP_DISK_FILE, KMS_DATABASE_FILE } from './kms.js';
export { NETBIOS_NAME_MAX, netbiosNameProblem, sameComputerName } from './computer-name.js';
export type { AlphaSource } from './kms.js';
export type {
  FolderIdentity, LedgerEntry, Manifest, ManifestFile, ProcessHolder, ProgressCallback, ServiceState, ServiceStatus, StartType, WorkProgress,
} from './server.js';
export { sameIdentity } from './server.js';
export { RUN_SITUATIONS } from './run-situation.js';
export type { RunSituation } from './run-situation.js';
export { localTime, momentWords, utcOffset } from './moment.js';
