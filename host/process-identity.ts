import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ProcessHolder } from '../domain/index.js';

/**
 * When a process started, as Linux tells it: the boot id and the start time in clock ticks since
 * boot (field 22 of /proc/<pid>/stat). Together they name one process for the machine's life; a
 * pid handed to another process later gives another value. Null where the OS does not say.
 */
export function processStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = fields[19];
    if (startTicks === undefined || !/^\d+$/.test(startTicks)) return null;
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    return `${bootId}:${startTicks}`;
  } catch {
    return null;
  }
}

/** The account this process runs as, for the event log (who abandoned a run); null where the OS will not say. */
export function currentUser(): string | null {
  try {
    return os.userInfo().username;
  } catch {
    return null;
  }
}

/** Who this process is, for run leases and the run's host column. */
export function currentProcess(): ProcessHolder {
  return { host: os.hostname(), pid: process.pid, processStart: processStartOf(process.pid) };
}

/** Whether a process with this pid exists on this machine (whoever it is). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a lease holder still runs. On this host: its pid must exist AND, where the OS gives a
 * process start time, be the same process (a pid reused by another program is not the holder);
 * where it gives none, a holder is alive only while its heartbeat is fresh. A holder on another
 * machine cannot be checked from here, so it counts as alive: taking a run from another host needs
 * an operator's decision (`takeover`).
 */
export function isLeaseHolderAlive(holder: ProcessHolder & { heartbeatAt: string }, staleAfterMs: number, now: number = Date.now()): boolean {
  if (holder.host !== os.hostname()) return true;
  if (!pidExists(holder.pid)) return false;
  const current = processStartOf(holder.pid);
  if (holder.processStart !== null && current !== null) return current === holder.processStart;
  return now - Date.parse(holder.heartbeatAt) < staleAfterMs;
}
