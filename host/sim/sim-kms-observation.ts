import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { identityOf } from '../fs/pinned-folder.js';
import type { FolderIdentity, KmsObservation, ServiceControl, ServiceExit } from '../types.js';
import { parseKmsCheck } from './kms-check.js';
import { DEFAULT_SIM_COMPUTER_NAME, KMS_CHECK_FILE, KMS_DATABASE_FILE, type SimPaths } from './sim-layout.js';
import { hasProcFs } from './sim-proc.js';

/** What the daemon last reported of itself (`kms-daemon.state.json`). */
interface DaemonState {
  pid: number;
  kmsId: string;
  stoppedAt?: string;
  exit?: ServiceExit;
}

async function readDaemonState(file: string): Promise<DaemonState | undefined> {
  try {
    const v = JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>;
    if (typeof v.pid !== 'number' || typeof v.kmsId !== 'string') return undefined;
    const exit = v.exit as Record<string, unknown> | undefined;
    return {
      pid: v.pid, kmsId: v.kmsId,
      ...(typeof v.stoppedAt === 'string' ? { stoppedAt: v.stoppedAt } : {}),
      ...(exit && typeof exit.win32ExitCode === 'number' && typeof exit.serviceExitCode === 'number'
        ? { exit: { win32ExitCode: exit.win32ExitCode, serviceExitCode: exit.serviceExitCode } } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The daemon log's `ERROR:` lines written since `since` (`<ISO time> [pid] ERROR: text`). */
async function errorsSince(log: string, since: Date): Promise<string[]> {
  let text: string;
  try {
    text = await fsp.readFile(log, 'utf8');
  } catch {
    return [];
  }
  const errors: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\S+) \[\d+\] ERROR: (.*)$/.exec(line);
    if (match && Date.parse(match[1]!) >= since.getTime()) errors.push(match[2]!);
  }
  return errors;
}

/**
 * The identity of the `kmsdata.edb` process `pid` holds open: the file behind its descriptor
 * (/proc/<pid>/fd/<n>), so a file renamed or replaced since the open is told apart. Without
 * /proc, the file at the path while the process lives.
 */
async function heldDatabase(pid: number, kmsdata: string): Promise<FolderIdentity | null> {
  const wanted = new Set([path.join(path.resolve(kmsdata), KMS_DATABASE_FILE)]);
  try {
    wanted.add(path.join(await fsp.realpath(kmsdata), KMS_DATABASE_FILE));
  } catch {
    // Kmsdata is gone: the descriptor's target will not be under it.
  }
  if (!hasProcFs()) {
    try {
      return identityOf(await fsp.stat([...wanted][0]!, { bigint: true }));
    } catch {
      return null;
    }
  }
  let fds: string[];
  try {
    fds = await fsp.readdir(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  for (const fd of fds) {
    try {
      const target = await fsp.readlink(`/proc/${pid}/fd/${fd}`);
      if (!wanted.has(target)) continue;
      return identityOf(await fsp.stat(`/proc/${pid}/fd/${fd}`, { bigint: true }));
    } catch {
      continue;
    }
  }
  return null;
}

/** The simulated KMS now: the service manager's view, the database its process holds, its log's errors and its own report. */
export async function observeSimKms(services: ServiceControl, paths: SimPaths, name: string, kmsdata: string, since: Date): Promise<KmsObservation> {
  const status = await services.queryService(name);
  const state = await readDaemonState(paths.daemonState);
  const errors = await errorsSince(paths.daemonLog, since);
  if (status.state === 'running' && status.pid !== undefined) {
    return {
      status, errors, heldDatabase: await heldDatabase(status.pid, kmsdata),
      ...(state && state.pid === status.pid ? { reportedDatabaseId: state.kmsId } : {}),
    };
  }
  const ended = state?.exit && state.stoppedAt && Date.parse(state.stoppedAt) >= since.getTime() ? state.exit : undefined;
  return { status, errors, heldDatabase: null, ...(ended ? { exit: ended } : {}) };
}

/** The kmsId of the `kmscheck.dat` in `dir`, as the simulated KMS reports the database it opened. */
export async function simDatabaseIdOf(dir: string): Promise<string | null> {
  try {
    return parseKmsCheck(await fsp.readFile(path.join(dir, KMS_CHECK_FILE), 'utf8'))?.kmsId ?? null;
  } catch {
    return null;
  }
}

/** The simulated computer's name (`scm/computer-name`; KMS01 for a host built before names). */
export async function simComputerName(paths: SimPaths): Promise<string> {
  try {
    const name = (await fsp.readFile(paths.computerName, 'utf8')).trim();
    return name || DEFAULT_SIM_COMPUTER_NAME;
  } catch {
    return DEFAULT_SIM_COMPUTER_NAME;
  }
}
