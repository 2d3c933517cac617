import { KmsRecoverError } from '../errors/index.js';
import type { FolderIdentity, Host, Manifest, ServiceStatus } from '../host/types.js';

export interface PreflightRequest {
  kmsdata: string;
  backup: string;
  serviceName: string;
}

export interface CheckedPaths {
  kmsdata: string;
  /** The Kmsdata folder's identity now: every change the run makes is pinned to this folder. */
  kmsdataIdentity: FolderIdentity;
  backup: string;
  service: ServiceStatus;
}

/**
 * KB step 1 and the prerequisites, checked before anything changes: the reinstall happened
 * (service present, Exchsrvr\Kmsdata present) and the backup is a separate, non-empty copy.
 * Reads only.
 */
export async function checkReinstall(host: Host, request: PreflightRequest): Promise<CheckedPaths> {
  const kmsdata = await host.checkKmsdataPath(request.kmsdata);
  const kmsdataIdentity = await host.kmsdataIdentity(kmsdata);
  const backup = await host.checkBackupPath(request.backup, kmsdata);
  const service = await host.queryService(request.serviceName);
  if (service.state === 'missing') {
    throw new KmsRecoverError('SERVICE_MISSING',
      `service ${request.serviceName} is not installed: reinstall Exchange Server, its service packs and Key Management Server first (KB step 1)`,
      { service: request.serviceName });
  }
  return { kmsdata, kmsdataIdentity, backup, service };
}

/**
 * Reads the whole backup once and keeps what it held: the proof the restore is checked against.
 * Whatever could stop the restore after the clear (names, lengths, free space) is refused now.
 */
export async function readBackupManifest(host: Host, backup: string, kmsdata: string): Promise<Manifest> {
  const manifest = await host.manifest(backup);
  if (manifest.fileCount === 0) {
    throw new KmsRecoverError('BACKUP_INVALID', `backup ${backup} holds no files`, { backup });
  }
  await host.checkRestorable(kmsdata, manifest);
  return manifest;
}
