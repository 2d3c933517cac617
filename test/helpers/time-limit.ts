/**
 * How long a test may take, said by the work it does. Read this before you give a test a limit.
 *
 * vitest gives a test 5 s unless told otherwise. A test that starts real kms-recover processes
 * (runCli, spawnCli, statusOf, resumeWithDisk, startCli, `script` running the CLI, ...) needs
 * time for each one, and on a busy machine one process can take seconds: the suite runs several
 * files at once, CI machines are shared, and the load lane (`npm run test:load`) runs the whole
 * suite beside a CPU load to prove it. So a test states how many CLI processes it starts, and
 * its limit is computed here, in one place:
 *
 *   it('resume finishes', async () => { ... }, cliLimit(3));           // start, status, resume
 *   it('8 rounds of 2', async () => { ... }, cliLimit(8 * 2));         // a loop: rounds × processes
 *   describe('signals', { timeout: cliLimit(6) }, () => { ... });      // each of its tests: at most 6
 *   it('waits out a back-off', ..., cliLimit(2, { waitMs: 3_000 }));  // plus a wait the test itself imposes
 *
 * Count the CLI processes the test itself starts, those it runs side by side too; the simulated
 * server of `simFixture()` (a copy and a daemon start, its template built once by `sim init`) is
 * in the base. A test that starts processes through run-cli.ts with no limit of its own fails,
 * saying what to write (test/helpers/setup.ts). Concurrent cases that first wait for a slot
 * (crash-checks.ts `concurrencyLimit`) use `slotLimit`, which adds the wait. A test that starts
 * no process keeps the default of vitest.config.ts, IN_PROCESS_MS.
 *
 * These are ceilings that catch a hung test, not speed targets: a test that is merely slow on a
 * busy machine must pass. A test that must see a step in progress does not race it with a timer
 * either: it holds the step (test/helpers/hold.ts).
 */

/** The part of any CLI test that is not its own processes: the fixture, vitest's own work. */
export const BASE_MS = 30_000;

/**
 * One kms-recover process, from spawn to exit, on a busy machine. Measured on 2 CPUs with the
 * load lane's stress-ng and four other suites running (load average 25 to 37): a test's
 * processes took 5 to 11 s each on average, a `start` of the random-kill campaign's larger server
 * about 30 s; this leaves room for the slowest of them.
 */
export const CLI_PROCESS_MS = 30_000;

/** How long `until` (wait.ts) waits, by default, for another process to get somewhere. */
export const WAIT_MS = 2 * CLI_PROCESS_MS;

/** A test that starts no process (vitest.config.ts testTimeout): pure computation, some files. */
export const IN_PROCESS_MS = 30_000;

/** Hooks (vitest.config.ts hookTimeout): cleaning up fixtures, a beforeAll that builds one. */
export const HOOK_MS = BASE_MS + 2 * CLI_PROCESS_MS;

/**
 * The limit of a test that starts `processes` kms-recover processes (count a loop's rounds),
 * plus `waitMs` of waiting the test imposes by design (a back-off, a stale period).
 */
export function cliLimit(processes: number, { waitMs = 0 }: { waitMs?: number } = {}): number {
  if (!Number.isInteger(processes) || processes < 0) throw new Error(`cliLimit: a number of processes, not ${processes}`);
  return BASE_MS + processes * CLI_PROCESS_MS + waitMs;
}

/**
 * vitest's maxConcurrency (vitest.config.ts takes it from here): how many `it.concurrent` tests of
 * a file it starts at once. Their time runs from that start, a slot or not.
 */
export const MAX_CONCURRENT_TESTS = 5;

/**
 * The limit of a concurrent case that waits for one of `slots` slots before it does its work
 * (`perCase`, a cliLimit): the cases started before it, at most MAX_CONCURRENT_TESTS - 1, go
 * first, `slots` at a time.
 */
export function slotLimit(perCase: number, slots: number): number {
  const roundsAhead = Math.ceil((MAX_CONCURRENT_TESTS - 1) / Math.max(1, slots));
  return (roundsAhead + 1) * perCase;
}
