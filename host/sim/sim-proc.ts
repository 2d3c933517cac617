import { existsSync, promises as fsp, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The marker every simulator daemon has in its command line (its script name). */
export const DAEMON_MARKER = 'kms-daemon';

export function hasProcFs(): boolean {
  return existsSync('/proc/self/fd');
}

/**
 * The argv of a process from /proc, or undefined when it is gone (or a zombie: empty).
 * Synchronous: a read of /proc is a few microseconds, a promise's trip through libuv's thread
 * pool (open, stat, read, close) far more; every look at the service scans every process.
 */
export function procArgv(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!raw) return undefined;
    return raw.split('\0').filter((part, i, all) => part !== '' || i < all.length - 1);
  } catch {
    return undefined;
  }
}

/** Processes read between two turns of the event loop in a scan of /proc (a loaded machine has thousands). */
const PROCS_PER_TURN = 256;

/** The value of `flag` in a daemon's argv (`--kmsdata <dir>`, `--log <file>`), resolved; undefined when it is not a daemon's. */
function daemonArg(argv: readonly string[], flag: '--kmsdata' | '--log'): string | undefined {
  if (!argv.some((part) => part.includes(DAEMON_MARKER))) return undefined;
  const at = argv.indexOf(flag);
  const value = at >= 0 ? argv[at + 1] : undefined;
  return value === undefined ? undefined : path.resolve(value);
}

/** Whether `pid` is a process, not another process's thread (Linux answers kill(2) and /proc/<tid> for threads too). */
async function isProcess(pid: number): Promise<boolean> {
  try {
    return new RegExp(`^Tgid:\\s*${pid}$`, 'm').test(await fsp.readFile(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is a live simulator daemon of the host whose daemon log is `log` (every daemon of
 * a host is started with `--log <root>/scm/MSExchangeKMS.log`): it exists and, where /proc exists,
 * is a process (not a thread) running kms-daemon with that `--log`. A recorded pid is only a
 * number: once its daemon is gone, the system hands it (pids wrap at pid_max, 32768 on many
 * machines, and every thread takes one) to another process, another host's daemon or one of its
 * threads included, which must never be taken for this host's, nor stopped or killed as it.
 */
export async function isDaemonAlive(pid: number, log: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProcFs()) return true;
  const argv = procArgv(pid);
  return !!argv && daemonArg(argv, '--log') === path.resolve(log) && await isProcess(pid);
}

/**
 * Every live simulator daemon serving `kmsdata` (argv `--kmsdata <kmsdata>`), found in /proc.
 * Catches daemons the state file does not know, such as one started by a CLI that died before
 * it could record the pid. Empty where /proc does not exist.
 */
export async function findDaemonPids(kmsdata: string): Promise<number[]> {
  if (!hasProcFs()) return [];
  const wanted = path.resolve(kmsdata);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  let read = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if (++read % PROCS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    const argv = procArgv(pid);
    if (argv && daemonArg(argv, '--kmsdata') === wanted) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}

async function realpathOr(p: string): Promise<string> {
  try {
    return await fsp.realpath(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Absolute paths of the files under `dir` that process `pid` holds open, read from
 * /proc/<pid>/fd, spelled under `dir` as given (even if `dir` goes through a symlink).
 */
export async function openFilesUnder(pid: number, dir: string): Promise<string[]> {
  const given = path.resolve(dir);
  const real = await realpathOr(given);
  let fds: string[];
  try {
    fds = await fsp.readdir(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const fd of fds) {
    let target: string;
    try {
      target = await fsp.readlink(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    // pipe:[…], socket:[…], anon_inode:… are not files; a deleted file is no longer in `dir`.
    if (!path.isAbsolute(target) || target.endsWith(' (deleted)')) continue;
    for (const base of new Set([real, given])) {
      const rel = path.relative(base, target);
      if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) {
        files.push(path.join(given, rel));
        break;
      }
    }
  }
  return files;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
