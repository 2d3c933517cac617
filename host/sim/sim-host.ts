import { KmsRecoverError } from '../../errors/index.js';
import type {
  ClearOptions, ClearReport, Host, KmsdataOperations, Manifest, RestoreOptions, RestoreReport, ServiceStatus,
} from '../types.js';
import { databaseIdentity } from '../fs/database-identity.js';
import { assertSimRoot } from './sim-layout.js';
import { observeSimKms, simComputerName, simDatabaseIdOf } from './sim-kms-observation.js';
import { SimServiceManager, type SimServiceManagerOptions } from './sim-service-manager.js';

/**
 * A Host over a simulated server at `root`: services go to the simulated service manager, file
 * work to `fsOps` (the real file operations), except that deleting or overwriting in a Kmsdata
 * whose files the running KMS daemon holds open fails with FILE_IN_USE, as it would on Windows.
 */
export function createSimHost(
  root: string,
  fsOps: KmsdataOperations,
  options: SimServiceManagerOptions = {},
): Host {
  const paths = assertSimRoot(root);
  const services = new SimServiceManager(paths.root, options);

  async function refuseIfInUse(kmsdata: string, operation: 'clear' | 'restore'): Promise<void> {
    const locked = await services.lockedFiles(kmsdata);
    const file = locked[0];
    if (file !== undefined) {
      throw new KmsRecoverError('FILE_IN_USE',
        `cannot delete ${file}: the file is in use (is the KMS service still running?)`,
        { file, kmsdata, operation, lockedFiles: locked.length });
    }
  }

  return {
    // The file work is host/fs's as it is; only clearing and restoring get this host's checks.
    ...fsOps,
    queryService: (name: string): Promise<ServiceStatus> => services.queryService(name),
    stopService: (name: string): Promise<ServiceStatus> => services.stopService(name),
    startService: (name: string, startParameters: readonly string[]): Promise<ServiceStatus> =>
      services.startService(name, startParameters),
    observeKms: (name: string, kmsdata: string, since: Date) => observeSimKms(services, paths, name, kmsdata, since),
    databaseIdentity,
    databaseIdOf: simDatabaseIdOf,
    computerName: () => simComputerName(paths),
    async clearKmsdata(kmsdata: string, runId: string, options: ClearOptions): Promise<ClearReport> {
      await refuseIfInUse(kmsdata, 'clear');
      return fsOps.clearKmsdata(kmsdata, runId, options);
    },
    async restoreKmsdata(backup: string, kmsdata: string, manifest: Manifest, runId: string, restoreOptions?: RestoreOptions): Promise<RestoreReport> {
      await refuseIfInUse(kmsdata, 'restore');
      return fsOps.restoreKmsdata(backup, kmsdata, manifest, runId, restoreOptions);
    },
  };
}
