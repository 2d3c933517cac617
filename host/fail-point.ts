/**
 * Crash injection for the crash tests, off unless the variables are set:
 * - KMS_RECOVER_FAIL_AT=<point>: the process kills itself with SIGKILL right there, as a power
 *   loss would;
 * - KMS_RECOVER_DELAY_AT=<point>:<ms>: the process blocks there for ms (to hold a run while
 *   another process tries to drive it).
 * - KMS_RECOVER_STALL_AT=<point>:<ms>: the work waits there for ms without blocking the process
 *   and without heeding any abort, as an OS call that cannot be cancelled would (to test that a
 *   second Ctrl-C forces the process to end); only at points whose caller awaits it.
 * - KMS_RECOVER_DELAY_AT=<point>@<file> and KMS_RECOVER_STALL_AT=<point>@<file>: the same
 *   (blocking, or waiting), not for a time but until released, and once: the first time the
 *   process arrives there it writes its pid to <file>, and it goes on once <file> is gone; later
 *   arrivals (a point passed again, as `after-checkpoint:<state>` is by every checkpoint in that
 *   state) go on. A test that must see a step in progress holds it there, looks, and deletes the
 *   file (test/helpers/hold.ts), whatever the machine's load: a timed rest is a race the test
 *   loses on a busy machine.
 * - KMS_RECOVER_FAULT=<step>:<n>: the first n attempts of that step fail with a transient
 *   error (INJECTED_FAULT), to exercise automatic retries.
 * Points: `after-checkpoint:<state>`, `before-step:<step>`, `after-step:<step>` (side effect
 * done, its checkpoint not yet written), `restore-after-file:<n>`, `backoff-wait:<step>` (a retry
 * is scheduled and committed, its wait not yet over), `backoff-resume:<step>` (a resumed run
 * resting in a failed step is about to read what remains of its scheduled wait),
 * `quarantine-deleting` (after `running`: the reinstall's files proved and moved aside in the
 * quarantine, their deletion not begun).
 */
import fs from 'node:fs';
import { KmsRecoverError } from '../errors/index.js';

/** How often a held process looks whether its hold file is gone. */
const HOLD_POLL_MS = 10;

/** `<point>:<ms>` or `<point>@<file>` of a DELAY/STALL variable, if it names `point`. */
function pause(value: string | undefined, point: string): { ms: number } | { file: string } | undefined {
  if (!value) return undefined;
  const at = value.indexOf('@');
  if (at >= 0) return value.slice(0, at) === point ? { file: value.slice(at + 1) } : undefined;
  const colon = value.lastIndexOf(':');
  return value.slice(0, colon) === point ? { ms: Number(value.slice(colon + 1)) } : undefined;
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The hold files this process has been held at (each holds it once). */
const held = new Set<string>();

/** Whether to hold at `file` now: the first time only. Writes the pid there if so. */
function arriveAt(file: string): boolean {
  if (held.has(file)) return false;
  held.add(file);
  fs.writeFileSync(file, `${process.pid}\n`);
  return true;
}

export function failPoint(name: string): void {
  if (process.env.KMS_RECOVER_FAIL_AT === name) process.kill(process.pid, 'SIGKILL');
  const delay = pause(process.env.KMS_RECOVER_DELAY_AT, name);
  if (!delay) return;
  if ('ms' in delay) {
    sleepSync(delay.ms);
    return;
  }
  if (!arriveAt(delay.file)) return;
  while (fs.existsSync(delay.file)) sleepSync(HOLD_POLL_MS);
}

export function stallPoint(name: string): Promise<void> | undefined {
  const stall = pause(process.env.KMS_RECOVER_STALL_AT, name);
  if (!stall) return undefined;
  if ('ms' in stall) return new Promise((resolve) => setTimeout(resolve, stall.ms));
  if (!arriveAt(stall.file)) return undefined;
  return new Promise((resolve) => {
    const look = () => { if (fs.existsSync(stall.file)) setTimeout(look, HOLD_POLL_MS); else resolve(); };
    look();
  });
}

export function injectedFault(step: string, attempt: number): void {
  const fault = process.env.KMS_RECOVER_FAULT;
  if (!fault) return;
  const [name, count] = fault.split(':');
  if (name === step && attempt <= Number(count)) {
    throw new KmsRecoverError('INJECTED_FAULT', `injected transient fault in ${step} (attempt ${attempt} of the first ${count})`, { step, attempt });
  }
}
