import os from 'node:os';
import type { LeaseHolder } from '../persistence/run-lease.js';

/** Who this process is, for run leases and the run's host column. */
export function currentProcess(): LeaseHolder {
  return { host: os.hostname(), pid: process.pid };
}

/**
 * Whether a lease holder still runs. A holder on another machine cannot be checked from here,
 * so it counts as alive: taking a run from another host needs an operator's decision.
 */
export function isLeaseHolderAlive(holder: LeaseHolder): boolean {
  if (holder.host !== os.hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
