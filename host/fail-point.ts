/**
 * Crash injection for the crash tests, off unless the variables are set:
 * - KMS_RECOVER_FAIL_AT=<point>: the process kills itself with SIGKILL right there, as a power
 *   loss would;
 * - KMS_RECOVER_DELAY_AT=<point>:<ms>: the process blocks there for ms (to hold a run while
 *   another process tries to drive it).
 * Points: `after-checkpoint:<state>`, `before-step:<step>`, `after-step:<step>` (side effect
 * done, its checkpoint not yet written), `restore-after-file:<n>`.
 */
export function failPoint(name: string): void {
  if (process.env.KMS_RECOVER_FAIL_AT === name) process.kill(process.pid, 'SIGKILL');
  const delay = process.env.KMS_RECOVER_DELAY_AT;
  if (delay && delay.slice(0, delay.lastIndexOf(':')) === name) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(delay.slice(delay.lastIndexOf(':') + 1)));
  }
}
