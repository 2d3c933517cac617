/**
 * Crash injection for the crash tests, off unless the variables are set:
 * - KMS_RECOVER_FAIL_AT=<point>: the process kills itself with SIGKILL right there, as a power
 *   loss would;
 * - KMS_RECOVER_DELAY_AT=<point>:<ms>: the process blocks there for ms (to hold a run while
 *   another process tries to drive it).
 * - KMS_RECOVER_STALL_AT=<point>:<ms>: the work waits there for ms without blocking the process
 *   and without heeding any abort, as an OS call that cannot be cancelled would (to test that a
 *   second Ctrl-C forces the process to end); only at points whose caller awaits it.
 * - KMS_RECOVER_FAULT=<step>:<n>: the first n attempts of that step fail with a transient
 *   error (INJECTED_FAULT), to exercise automatic retries.
 * Points: `after-checkpoint:<state>`, `before-step:<step>`, `after-step:<step>` (side effect
 * done, its checkpoint not yet written), `restore-after-file:<n>`, `backoff-wait:<step>` (a retry
 * is scheduled and committed, its wait not yet over).
 */
import { KmsRecoverError } from '../errors/index.js';

export function failPoint(name: string): void {
  if (process.env.KMS_RECOVER_FAIL_AT === name) process.kill(process.pid, 'SIGKILL');
  const delay = process.env.KMS_RECOVER_DELAY_AT;
  if (delay && delay.slice(0, delay.lastIndexOf(':')) === name) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(delay.slice(delay.lastIndexOf(':') + 1)));
  }
}

export function stallPoint(name: string): Promise<void> | undefined {
  const stall = process.env.KMS_RECOVER_STALL_AT;
  if (!stall || stall.slice(0, stall.lastIndexOf(':')) !== name) return undefined;
  return new Promise((resolve) => setTimeout(resolve, Number(stall.slice(stall.lastIndexOf(':') + 1))));
}

export function injectedFault(step: string, attempt: number): void {
  const fault = process.env.KMS_RECOVER_FAULT;
  if (!fault) return;
  const [name, count] = fault.split(':');
  if (name === step && attempt <= Number(count)) {
    throw new KmsRecoverError('INJECTED_FAULT', `injected transient fault in ${step} (attempt ${attempt} of the first ${count})`, { step, attempt });
  }
}
