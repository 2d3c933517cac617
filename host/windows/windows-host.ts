import { isKmsRecoverError, KmsRecoverError } from '../../errors/index.js';
import { fsKmsdataOperations } from '../fs/index.js';
import { KMS_SERVICE_NAME } from '../types.js';
import type {
  ClearOptions, ClearReport, Host, KmsdataOperations, Manifest, RestoreOptions, RestoreReport, ServiceControl, ServiceStatus,
} from '../types.js';
import { assertShareReachable, checkServerName, uncKmsdataParts } from './remote-target.js';
import { uncServer, WindowsServiceControl, type WindowsServiceControlOptions } from './windows-service-control.js';
import { databaseIdentity } from '../fs/database-identity.js';
import { readServiceEvents } from './event-log.js';
import { observeWindowsKms, windowsComputerName } from './kms-observation.js';

export interface WindowsHostOptions extends WindowsServiceControlOptions {
  /** The file operations (default: the real ones, `fsKmsdataOperations`). */
  fsOps?: KmsdataOperations;
  /** The service control (default: the service control manager's API, WindowsServiceControl). */
  services?: ServiceControl;
  /** The service whose state a FILE_IN_USE message reports (default MSExchangeKMS). */
  serviceName?: string;
}

/**
 * A Host for a Windows server: the service through the service control manager's API
 * (WindowsServiceControl), of this computer or of `server`; the Kmsdata work through the same
 * file operations every adapter uses, on a local path or, with `server`, on that server's admin
 * share. Node's `path` is `path.win32` there, so `C:\exchsrvr\KMSDATA` and
 * `\\KMSSERVER\C$\exchsrvr\KMSDATA` pass the Kmsdata checks (names compared case-insensitively),
 * and a sharing violation during the clear or the restore is already FILE_IN_USE naming the
 * file; this host adds who holds it.
 */
export function createWindowsHost(options: WindowsHostOptions = {}): Host {
  const server = options.server === undefined ? undefined : checkServerName(options.server);
  const services = options.services ?? new WindowsServiceControl({ ...options, server });
  const fsOps = options.fsOps ?? fsKmsdataOperations;
  const serviceName = options.serviceName ?? KMS_SERVICE_NAME;
  const where = server ? ` on \\\\${server}` : '';

  /** A locked file: say whether the KMS still runs, or which other programs usually hold Kmsdata files. */
  async function explainInUse<T>(operation: 'clear' | 'restore', action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (!isKmsRecoverError(error) || error.code !== 'FILE_IN_USE') throw error;
      const file = typeof error.detail.file === 'string' ? error.detail.file : undefined;
      const state = await services.queryService(serviceName).then((s) => s.state, () => undefined);
      const holder = state === undefined || state === 'missing' ? ''
        : state === 'stopped'
          ? `; ${serviceName}${where} is stopped, so another program holds it (a backup agent, a virus scanner, an Explorer or command window open in that folder): close it, then run kms-recover resume`
          : `; ${serviceName}${where} is ${state}: stop it, then run kms-recover resume`;
      const base = error.message.replace(/ \(is the KMS service still running\?\)$/, '');
      throw new KmsRecoverError('FILE_IN_USE', `${base}${holder}`, { ...error.detail, file, operation, serviceState: state }, { cause: error });
    }
  }

  return {
    // The file work is host/fs's as it is; only clearing and restoring get this host's checks.
    ...fsOps,
    // With --server: the path must be on that server's admin share, and the share reachable.
    checkKmsdataPath: async (kmsdata: string): Promise<string> => {
      if (server !== undefined) assertShareReachable(uncKmsdataParts(kmsdata, server), serviceName);
      return fsOps.checkKmsdataPath(kmsdata);
    },
    queryService: (name: string): Promise<ServiceStatus> => services.queryService(name),
    stopService: (name: string): Promise<ServiceStatus> => services.stopService(name),
    startService: (name: string, startParameters: readonly string[]): Promise<ServiceStatus> =>
      services.startService(name, startParameters),
    lastExit: (name: string) => services.lastExit?.(name) ?? Promise.resolve(undefined),
    observeKms: (name: string, kmsdata: string, since: Date) => observeWindowsKms({
      services, lastExit: services.lastExit?.bind(services), readEvents: options.readEvents ?? readServiceEvents, server: uncServer(server),
    }, name, kmsdata, since),
    databaseIdentity,
    // The real KMS's database is not the simulator's: it tells no identity the tool could read.
    databaseIdOf: () => Promise.resolve(null),
    computerName: () => Promise.resolve(windowsComputerName(server)),
    clearKmsdata: (kmsdata: string, runId: string, options: ClearOptions): Promise<ClearReport> =>
      explainInUse('clear', () => fsOps.clearKmsdata(kmsdata, runId, options)),
    restoreKmsdata: (backup: string, kmsdata: string, manifest: Manifest, runId: string, restoreOptions?: RestoreOptions): Promise<RestoreReport> =>
      explainInUse('restore', () => fsOps.restoreKmsdata(backup, kmsdata, manifest, runId, restoreOptions)),
  };
}
