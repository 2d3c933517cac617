import { isKmsRecoverError, KmsRecoverError } from '../errors/index.js';
import { sameIdentity } from '../domain/index.js';
import type { FolderIdentity, Host, PlaceApart } from '../host/types.js';

/*
 * What the start checks prove about the folders, by what they are (device and inode; Windows:
 * volume serial number and file ID), not by the names given: the Kmsdata named is the one the
 * KMS service uses, the trees the run changes and reads lie apart from each other and from the
 * files it keeps, and Kmsdata shares one volume with the folders beside it. Reads only.
 */

/**
 * Refuses a `--kmsdata` that is not the folder the KMS service keeps its data in (its service
 * configuration says which), naming both. `kmsdataIdentity` is that of the folder given, now.
 */
export async function assertServicesKmsdata(host: Host, serviceName: string, kmsdata: string, kmsdataIdentity: FolderIdentity): Promise<void> {
  const own = await host.serviceKmsdata(serviceName);
  let ownIdentity: FolderIdentity;
  try {
    ownIdentity = await host.kmsdataIdentity(own);
  } catch (error) {
    const why = isKmsRecoverError(error) ? error.message : String(error);
    throw new KmsRecoverError('KMSDATA_NOT_THE_SERVICES',
      `${serviceName} keeps its data in ${own} (its service configuration), and that folder cannot be used: ${why}; --kmsdata ${kmsdata} is not it, so nothing was changed`,
      { service: serviceName, kmsdata, servicesKmsdata: own }, { cause: error });
  }
  if (!sameIdentity(ownIdentity, kmsdataIdentity)) {
    throw new KmsRecoverError('KMSDATA_NOT_THE_SERVICES',
      `--kmsdata ${kmsdata} is not the folder ${serviceName} keeps its data in: its service configuration says ${own} (another folder by device and inode); give that folder, or the --sim-root/--server of the server whose Kmsdata this is; nothing was changed`,
      { service: serviceName, kmsdata, servicesKmsdata: own, identity: kmsdataIdentity, servicesIdentity: ownIdentity });
  }
}

/**
 * On every resume: the run's Kmsdata is still the folder its service uses (a service reinstalled
 * elsewhere, or a run resumed against another server, is refused before anything changes). A
 * Kmsdata missing for now (a restore cut off between its two renames, which the restore
 * finishes) is compared by name with the service's.
 */
export async function assertRunsKmsdataIsServices(host: Host, serviceName: string, kmsdata: string): Promise<void> {
  let identity: FolderIdentity;
  try {
    identity = await host.kmsdataIdentity(kmsdata);
  } catch (error) {
    if (!isKmsRecoverError(error) || error.code !== 'PATH_MISSING') throw error;
    const own = await host.serviceKmsdata(serviceName);
    // Case-insensitively, as Windows names folders (two Linux names differing only by case, one
    // missing, are not worth refusing a resume for: the restore pins the folder it recreates).
    if (own.toLowerCase() === kmsdata.toLowerCase()) return;
    throw new KmsRecoverError('KMSDATA_NOT_THE_SERVICES',
      `the run's Kmsdata ${kmsdata} is not the folder ${serviceName} keeps its data in: its service configuration says ${own}; nothing was changed`,
      { service: serviceName, kmsdata, servicesKmsdata: own });
  }
  await assertServicesKmsdata(host, serviceName, kmsdata, identity);
}

/** The files a run keeps beside the server: its database (with -wal and -shm), its log, the startup disk. */
export interface RunFiles {
  db: string;
  log: string;
  startupDisk?: string;
}

export function placesOf(files: RunFiles): PlaceApart[] {
  return [
    { what: 'the database', path: files.db },
    { what: 'the database\'s write-ahead log', path: `${files.db}-wal` },
    { what: 'the database\'s shared memory file', path: `${files.db}-shm` },
    { what: 'the log', path: files.log },
    ...(files.startupDisk === undefined ? [] : [{ what: 'the startup disk', path: files.startupDisk }]),
  ];
}

/**
 * Kmsdata on one volume with the folders made beside it, and no overlap between Kmsdata, the
 * backup, the quarantine and staging folders beside Kmsdata, the database, its log and the
 * startup disk. Run before the database is opened or created.
 */
export async function assertFoldersApart(host: Host, kmsdata: string, backup: string, files: RunFiles): Promise<void> {
  await host.checkOneVolume(kmsdata);
  const runFolders = (await host.runFolders(kmsdata)).map((folder) => folder.path);
  await host.checkTreesApart({ kmsdata, backup, runFolders, places: placesOf(files) });
}
