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
 * What this machine can tell of a lease holder's process: `running` (its pid exists and, where
 * the OS gives a process start time, it is the same process: a pid reused by another program is
 * not the holder), `gone`, or `unknown` (it runs on another machine, which cannot be asked from
 * here). Its heartbeat is judged by recovery/lease-policy.ts, the one liveness rule.
 */
export function holderProcess(holder: ProcessHolder): 'running' | 'gone' | 'unknown' {
  if (holder.host !== os.hostname()) return 'unknown';
  if (!pidExists(holder.pid)) return 'gone';
  const current = processStartOf(holder.pid);
  if (holder.processStart !== null && current !== null && current !== holder.processStart) return 'gone';
  return 'running';
}
