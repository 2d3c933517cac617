import { afterAll, beforeAll, describe, expect, inject, it, type ExpectStatic } from 'vitest';
import { readDb } from '../helpers/event-log.js';
import { campaignSeed, envCount, killPlan, type PlannedKill } from '../helpers/kill-schedule.js';
import { runCli } from '../helpers/run-cli.js';
import { cleanupSimFixtures, disposeSimFixture, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit, slotLimit } from '../helpers/time-limit.js';
import { concurrencyLimit, crashSlots, expectRecovered, resumeCli, staleLeaseOf, startAndKill, startCli, treeDigest } from './crash-checks.js';

/**
 * The random-kill campaign, shared by random-kills.test.ts and random-kills-2.test.ts (one shard
 * each, in parallel). Each iteration: a fresh simulated server with a large Kmsdata, `start`
 * SIGKILLed after a random delay (a power loss of the admin's machine), sometimes a power loss of
 * the server too (`sim reboot`), then `resume` (or `start` again if no run was created yet) must
 * finish the recovery exactly as an uninterrupted run would. One campaign: both shards take their
 * kills from the same plan, of the same seed (test/helpers/global-setup.ts draws it once per run).
 * Iterations run `crashSlots()` at a time in each file (see crash-checks.ts).
 *
 * Environment:
 *   KMS_RECOVER_KILL_RUNS=<n>    kills in the whole campaign, over both files (default 50)
 *   KMS_RECOVER_KILL_SEED=<n>    replay a campaign (the seed is in every test name)
 *   KMS_RECOVER_KILL_MAX_MS=<n>  the longest delay (default: a full `start`, measured first)
 *   KMS_RECOVER_CRASH_SLOTS=<n>  iterations at once per file (default: CPUs, at most 4)
 */

/** Hundreds of files, some MB: the restore (and so the window to die in) is long. */
export const KILL_SIM_ARGS = ['--extra-files', '300', '--extra-bytes', '4000000'];
/** The kills of a campaign unless KMS_RECOVER_KILL_RUNS says otherwise: what CI runs. */
export const DEFAULT_KILLS = 50;
const SHARDS = 2;
/** A start of KILL_SIM_ARGS' server moves 300 files, 4 MB: as long as this many processes of the other tests (cliLimit). */
const HEAVY = 3;

export function randomKillsSuite(shard: number): void {
  const kills = envCount('KMS_RECOVER_KILL_RUNS', DEFAULT_KILLS);
  const seed = inject('killSeed') ?? campaignSeed();
  const plan = killPlan(seed, kills, shard, SHARDS);
  const maxFromEnv = process.env.KMS_RECOVER_KILL_MAX_MS ? envCount('KMS_RECOVER_KILL_MAX_MS', 1) : undefined;
  const slots = crashSlots();
  const slot = concurrencyLimit(slots);
  // An iteration: start (killed), sim reboot, resume, start again, status, at most; after its wait
  // for a slot. A start or resume of KILL_SIM_ARGS' server counts HEAVY.
  const iterationLimit = slotLimit(cliLimit(3 * HEAVY + 2), slots);
  const name = `random kills shard ${shard + 1}/${SHARDS}`;
  let fullRunMs = 0;
  /** Where the kills landed (the run's committed state, or why there was none), for the summary. */
  const landed = new Map<string, number>();
  const iterationMs: number[] = [];

  /** One iteration; `trace` collects what happened, printed if the test fails. */
  async function iteration(expect: ExpectStatic, kill: PlannedKill, delayMs: number, trace: string[]): Promise<void> {
    const began = performance.now();
    const sim = await simFixture(KILL_SIM_ARGS);
    try {
      const backupBefore = treeDigest(sim.backup);

      const first = await startAndKill(sim, delayMs);
      trace.push(`start: ${first.killed ? 'killed' : `exited ${first.code ?? first.signal}`} after ${Math.round(first.elapsedMs)} ms\n${first.stderr}`);
      // Either our SIGKILL, or it finished before (or while) the kill was sent: fine, checked all the same.
      if (!first.killed) expect(first.code, trace.join('\n')).toBe(0);

      if (kill.reboot) {
        const reboot = await runCli(['sim', 'reboot', sim.root]);
        trace.push(`sim reboot: exit ${reboot.code}\n${reboot.stdout}${reboot.stderr}`);
        expect(reboot.code, trace.join('\n')).toBe(0);
      }

      const atKill = readDb(sim.db);
      const mustTakeOver = staleLeaseOf(atKill);
      const run = atKill?.runs[0];
      trace.push(`at the kill: runs ${JSON.stringify(atKill?.runs ?? 'no database')}, leases ${JSON.stringify(atKill?.leases ?? [])}`);
      const where = !first.killed ? 'finished before the kill' : !run ? 'no run yet' : run.phase === 'done' ? 'killed after running' : `killed at ${run.state}`;
      landed.set(where, (landed.get(where) ?? 0) + 1);

      const resumed = await resumeCli(sim);
      trace.push(`resume: exit ${resumed.code}\n${resumed.stderr}`);
      if (resumed.code === 7 && /no unfinished run|no kms-recover database/.test(resumed.stderr)) {
        // The kill came before the run was created (preflight), or after it finished.
        if (!atKill?.runs.some((r) => r.phase === 'done')) {
          const again = await startCli(sim);
          trace.push(`start again: exit ${again.code}\n${again.stderr}`);
          expect(again.code, trace.join('\n')).toBe(0);
        }
      } else {
        expect(resumed.code, trace.join('\n')).toBe(0);
      }

      await expectRecovered(expect, sim, backupBefore, { takeovers: mustTakeOver ? 1 : 0 });
      iterationMs.push(performance.now() - began);
    } finally {
      await disposeSimFixture(sim);
    }
  }

  describe(`random SIGKILLs of start, then resume (seed ${seed}, shard ${shard + 1}/${SHARDS}; replay: KMS_RECOVER_KILL_SEED=${seed})`, { timeout: iterationLimit }, () => {
    afterAll(cleanupSimFixtures); // a backstop: every iteration disposes of its own fixture

    afterAll(() => {
      const summary = [...landed].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`).join(', ');
      const mean = iterationMs.reduce((a, b) => a + b, 0) / Math.max(1, iterationMs.length);
      console.info(`[${name}] seed ${seed}; where the kills landed: ${summary}; `
        + `an iteration took ${Math.round(mean)} ms on average, ${Math.round(Math.max(0, ...iterationMs))} ms at most`);
    });

    beforeAll(async () => {
      // The typical duration of an uninterrupted `start` on this machine, spawn to exit, under the
      // load the iterations will see (`slots` of them at once): the mean of max(2, slots) runs.
      const once = async (): Promise<number> => {
        const sim = await simFixture(KILL_SIM_ARGS);
        try {
          const full = await startAndKill(sim, null);
          expect(full.code, full.stderr).toBe(0);
          return Math.round(full.elapsedMs);
        } finally {
          await disposeSimFixture(sim);
        }
      };
      const measured = await Promise.all(Array.from({ length: Math.max(2, slots) }, () => once()));
      fullRunMs = maxFromEnv ?? Math.round(measured.reduce((a, b) => a + b, 0) / measured.length);
      console.info(`[${name}] seed ${seed}; ${slots} at once; full starts took ${measured.join(', ')} ms; kills in [0, ${fullRunMs}) ms`);
    }, cliLimit(HEAVY * Math.max(2, slots)));

    for (const kill of plan) {
      const label = `kill #${kill.index} at ${(kill.fraction * 100).toFixed(1)}% of a full run${kill.reboot ? ', then a server reboot' : ''} (seed ${seed})`;
      it.concurrent(label, ({ expect, onTestFailed }) => slot(async () => {
        const delayMs = Math.round(kill.fraction * fullRunMs);
        const trace = [`seed ${seed}, kill #${kill.index}: SIGKILL after ${delayMs} ms of ${fullRunMs}, reboot ${kill.reboot}`];
        onTestFailed(() => {
          console.error(`[${name}] FAILED: replay with KMS_RECOVER_KILL_SEED=${seed} KMS_RECOVER_KILL_RUNS=${kills} `
            + `KMS_RECOVER_KILL_MAX_MS=${fullRunMs}\n${trace.join('\n')}`);
        });
        await iteration(expect, kill, delayMs, trace);
      }), iterationLimit);
    }
  });
}
