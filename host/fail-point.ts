/**
 * Crash injection for the crash tests: when KMS_RECOVER_FAIL_AT names this point, the process
 * kills itself with SIGKILL right here, as a power loss would. Off unless the variable is set.
 * Points: `after-checkpoint:<state>`, `before-step:<step>`, `after-step:<step>` (side effect
 * done, its checkpoint not yet written).
 */
export function failPoint(name: string): void {
  const target = process.env.KMS_RECOVER_FAIL_AT;
  if (target && target === name) process.kill(process.pid, 'SIGKILL');
}
