import { existsSync } from 'node:fs';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import { KMS_DATABASE_FILE, KMS_SERVICE_NAME, STARTUP_DISK_FILE } from '../../domain/index.js';

export { KMS_DATABASE_FILE };

/**
 * Where everything of a simulated host lives, all paths absolute:
 *
 *   <root>/Exchsrvr/Kmsdata/…          the live Kmsdata
 *   <root>/backup/Kmsdata/…            the administrator's backup of the ORIGINAL Kmsdata
 *   <root>/A/Kmspwd.ini                the ORIGINAL startup disk (drive A:)
 *   <root>/reinstall-disk/Kmspwd.ini   the startup disk written by the reinstall
 *   <root>/scm/services.json           the service manager's state
 *   <root>/scm/MSExchangeKMS.log       the KMS daemon's own log (no secrets; errors as `ERROR:` lines)
 *   <root>/scm/kms-daemon.state.json   what the running daemon reports: pid, the kmsId of the database it opened, how it ended
 *   <root>/scm/computer-name           the simulated computer's name (KMS01 when absent)
 */
export interface SimPaths {
  root: string;
  exchsrvr: string;
  kmsdata: string;
  backupRoot: string;
  backup: string;
  startupDiskDir: string;
  startupDisk: string;
  reinstallDiskDir: string;
  reinstallDisk: string;
  scm: string;
  servicesFile: string;
  daemonLog: string;
  daemonState: string;
  computerName: string;
}

/** File names inside a Kmsdata tree that the simulator gives a meaning to. */
export const KMS_CHECK_FILE = 'kmscheck.dat';
/** In `<root>/scm/`: while this file exists, the KMS daemon hangs when asked to stop (tests). */
export const HANG_STOP_FILE = 'kms-daemon.hang-stop';
/** In `<root>/scm/`: while this file holds a number N, the KMS daemon reports RUNNING, then stops N s after its start with service specific error 1 (tests). */
export const FAIL_AFTER_FILE = 'kms-daemon.fail-after';
/** In `<root>/scm/`: the daemon's report of itself (pid, kmsId, exit codes), beside its log. */
export const DAEMON_STATE_FILE = 'kms-daemon.state.json';
/** The simulated computer's name when `sim init` was not given one. */
export const DEFAULT_SIM_COMPUTER_NAME = 'KMS01';

export function simPaths(root: string): SimPaths {
  const r = path.resolve(root);
  const exchsrvr = path.join(r, 'Exchsrvr');
  const backupRoot = path.join(r, 'backup');
  const startupDiskDir = path.join(r, 'A');
  const reinstallDiskDir = path.join(r, 'reinstall-disk');
  const scm = path.join(r, 'scm');
  return {
    root: r,
    exchsrvr,
    kmsdata: path.join(exchsrvr, 'Kmsdata'),
    backupRoot,
    backup: path.join(backupRoot, 'Kmsdata'),
    startupDiskDir,
    startupDisk: path.join(startupDiskDir, STARTUP_DISK_FILE),
    reinstallDiskDir,
    reinstallDisk: path.join(reinstallDiskDir, STARTUP_DISK_FILE),
    scm,
    servicesFile: path.join(scm, 'services.json'),
    daemonLog: path.join(scm, `${KMS_SERVICE_NAME}.log`),
    daemonState: path.join(scm, DAEMON_STATE_FILE),
    computerName: path.join(scm, 'computer-name'),
  };
}

/** Throws SIM_INVALID unless `root` holds a simulated host (its service manager state). */
export function assertSimRoot(root: string): SimPaths {
  const paths = simPaths(root);
  if (!existsSync(paths.servicesFile)) {
    throw new KmsRecoverError(
      'SIM_INVALID',
      `${paths.root} is not a simulated host (run kms-recover sim init first)`,
      { root: paths.root, missing: paths.servicesFile },
    );
  }
  return paths;
}
