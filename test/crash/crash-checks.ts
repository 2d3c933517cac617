import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExpectStatic } from 'vitest';
import { describeEvents, eventLogProblems, eventsOf, readDb, type DbView } from '../helpers/event-log.js';
import { CLI, cliEnv, REPO_ROOT, runCli, type CliResult } from '../helpers/run-cli.js';
import { serviceState, startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { filesContaining, secretFiles, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';

/**
 * Shared by the crash tests (not a test file itself). The crash tests run their cases
 * concurrently (the work is in child processes), hence: the test's own `expect` is passed in
 * (soft assertions must land on the right test), and each case disposes of its own fixture
 * (`disposeSimFixture`) instead of `cleanupSimFixtures` in afterEach, which would tear down the
 * fixtures of the cases still running.
 */

/**
 * How many crash cases a file runs at once: KMS_RECOVER_CRASH_SLOTS, else the machine's
 * parallelism (at most 4: the cases are fsync-bound).
 */
export function crashSlots(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env.KMS_RECOVER_CRASH_SLOTS);
  if (Number.isSafeInteger(given) && given >= 1) return given;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

/** At most `slots` of the wrapped calls run at once; the others wait their turn, in order. */
export function concurrencyLimit(slots: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

/** Every file and folder of a tree with the SHA-256 of its bytes: equal trees give equal maps, and a diff stays readable. */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rel, bytes] of treeBytes(dir)) out[rel] = rel.endsWith('/') ? 'dir' : createHash('sha256').update(bytes).digest('hex');
  return out;
}

export function fileCount(digest: Record<string, string>): number {
  return Object.keys(digest).filter((rel) => !rel.endsWith('/')).length;
}

/** `start` with the startup disk; crash injection only as given (cliEnv drops the caller's). */
export function startCli(sim: SimFixture, env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(startWithDiskArgs(sim), { env });
}

/** `resume` with the original alpha string in KMS_ALPHA_STRING, as the operator gives it after a crash. */
export function resumeCli(sim: SimFixture, extra: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['resume', ...extra, '--db', sim.db], { env: { KMS_ALPHA_STRING: sim.alpha, ...env } });
}

/** The crash campaign's settle window: short, but long enough that some random kills land in it. */
export const CAMPAIGN_SETTLE = '0.5';

export interface KilledStart extends CliResult {
  /**
   * Whether the process died of this test's SIGKILL. False when it exited by itself first, which
   * includes a kill sent while it was already exiting (then `code` is its own exit status).
   */
  killed: boolean;
  /** Milliseconds from spawn to exit. */
  elapsedMs: number;
}

/**
 * `kms-recover start` as its own process, SIGKILLed `delayMs` after the spawn (a power loss of
 * the admin's machine), or left to finish if `delayMs` is null. The environment is cleaned as
 * runCli does.
 */
export function startAndKill(sim: SimFixture, delayMs: number | null, settle = CAMPAIGN_SETTLE): Promise<KilledStart> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(process.execPath, [CLI, ...startWithDiskArgs(sim, ['--settle', settle])], { cwd: REPO_ROOT, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = delayMs === null ? undefined : setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) sent = child.kill('SIGKILL');
    }, delayMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('exit', () => clearTimeout(timer));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, killed: sent && signal === 'SIGKILL', elapsedMs: performance.now() - began }));
  });
}

/** The run's lease held by a process that is gone: the next driver must take it over (and say so once). */
export function staleLeaseOf(view: DbView | null): boolean {
  const run = view?.runs[0];
  // Finishing a run after a kill takes its lease too: a dead holder's lease is taken over in every phase.
  return Boolean(run && view!.leases.some((l) => l.runId === run.id));
}

/**
 * The end conditions of every crash test: the run is `running`, the KMS service runs, Kmsdata is
 * byte-identical to the backup, the backup is untouched, nothing is left beside Kmsdata, the event
 * log is gap-free and goes forward through the six states, `lease.taken-over` appears
 * `takeovers` times, and the alpha string is nowhere in the database or the log.
 * Soft assertions: one crash case reports everything it finds wrong.
 */
export async function expectRecovered(expect: ExpectStatic, sim: SimFixture, backupBefore: Record<string, string>, options: { takeovers: number }): Promise<void> {
  const status = await statusOf(sim, expect);
  expect.soft({ state: status.state, done: status.done, phase: status.phase }, JSON.stringify(status.lastError))
    .toEqual({ state: 'running', done: true, phase: 'done' });

  expect.soft(await serviceState(sim), 'the KMS service').toBe('running');

  expect.soft(treeDigest(sim.kmsdata), 'Kmsdata is byte-identical to the backup').toEqual(backupBefore);
  expect.soft(treeDigest(sim.backup), 'the backup is unchanged').toEqual(backupBefore);
  expect.soft(fs.readdirSync(path.dirname(sim.kmsdata)).sort(), 'nothing left beside Kmsdata (staging, quarantine)').toEqual(['Kmsdata']);

  const view = readDb(sim.db);
  expect(view, 'the database has runs').not.toBeNull();
  expect.soft(view!.runs.map((r) => r.id), 'exactly one run').toEqual([status.runId]);
  const events = eventsOf(view!, status.runId);
  expect.soft(eventLogProblems(events), describeEvents(events)).toEqual([]);
  expect.soft(events.filter((e) => e.event === 'lease.taken-over').length, `lease.taken-over events\n${describeEvents(events)}`)
    .toBe(options.takeovers);
  expect.soft(view!.leases, 'no lease is left once the run is finished').toEqual([]);

  expect.soft(fs.existsSync(sim.log), 'the log exists').toBe(true);
  expect.soft(filesContaining(secretFiles(sim), sim.alpha), 'files holding the alpha string').toEqual([]);
}
