import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunSituation } from '../../domain/index.js';
import { SITUATION_WORDS } from '../../present/situation-words.js';
import type { RunListRow } from '../../recovery/run-list.js';
import type { RunStatus } from '../../recovery/run-status.js';
import { holdAt } from '../helpers/hold.js';
import { parseJson, printed, printedCommand, runCli, spawnCli, type SpawnedCli } from '../helpers/run-cli.js';
import { startWithDiskArgs } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';
import { dbHas, until } from '../helpers/wait.js';
import { expectExit } from '../helpers/expect-exit.js';

afterEach(cleanupSimFixtures);

/*
 * One truth of a run (issue 26): whatever a run's situation, every screen tells it the same way.
 * For each situation a run can rest or be driven in, made with real processes on the simulator,
 * `status --json`, the run's row of `list --json`, `watch --json` and `history --json` give the
 * same `situation`, `phase` and `next`, `next` names the command the situation calls for, the
 * header of `history` says the situation in the words of present/situation-words.ts, and the
 * diagram's title (`diagram --run`) gives the same next action.
 *
 * `watch --json --once` prints the run as it rests. Of a run that is driven (working, retrying), `watch --json` prints
 * nothing yet: it must still be watching once the other screens have been read, and, when the
 * driver is then killed, end with what `status` says of the interrupted run.
 */

/** The shortest stale period there is (recovery/lease-policy.ts): a paused driver is unresponsive after it. */
const STALE = { KMS_RECOVER_LEASE_STALE_SECONDS: '10' };
const STALE_MS = 10_000;

interface Scene {
  sim: SimFixture;
  /** The driver of a run that is driven now (killed at the end of the case). */
  driver?: SpawnedCli;
  /** The readers' environment (the stale period of the unresponsive case). */
  env?: Record<string, string>;
}

interface Case {
  name: string;
  situation: RunSituation;
  /** The command `next` must name (null: there is none). */
  command: (runId: string) => string | null;
  /** The kms-recover processes the case starts to bring its run there. */
  processes: number;
  /** Time the case waits by design. */
  waitMs?: number;
  make: () => Promise<Scene>;
}

/** A run whose driver was killed (SIGKILL) right after the checkpoint of `state`. */
async function killedAfterCheckpoint(state: string): Promise<{ sim: SimFixture }> {
  const sim = await simFixture();
  expectExit(await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: `after-checkpoint:${state}` } }), 'SIGKILL');
  return { sim };
}

/** A run that rests where `start` leaves it: `start` exits with `exit`. */
async function rested(extra: string[], exit: number, env: Record<string, string> = {}): Promise<Scene> {
  const sim = await simFixture();
  const result = await runCli(startWithDiskArgs(sim, extra), { env });
  expectExit(result, exit);
  return { sim };
}

/** A driver held in its restore (only the copy waits: its heartbeat goes on). */
async function heldInRestore(sim: SimFixture): Promise<SpawnedCli> {
  const hold = holdAt(sim, 'restore-after-file:3', 'stall');
  const driver = spawnCli(startWithDiskArgs(sim), { env: hold.env });
  await hold.reached(driver);
  return driver;
}

/** A start left in the back-off before attempt 2 of clearKmsdata, which waits an hour (half to all of it). */
function inBackoff(sim: SimFixture, env: Record<string, string> = {}): SpawnedCli {
  return spawnCli(startWithDiskArgs(sim, ['--attempts', 'clearKmsdata=2', '--backoff', 'clearKmsdata=3600']), { env: { KMS_RECOVER_FAULT: 'clearKmsdata:1', ...env } });
}

/** A run whose live driver waits in its back-off, the retry committed. */
async function liveInBackoff(): Promise<{ sim: SimFixture; driver: SpawnedCli }> {
  const sim = await simFixture();
  const driver = inBackoff(sim);
  await printed(driver, /retrying clearKmsdata in/, 'stderr');
  await until('the retry committed', () => dbHas(sim.db, 'SELECT 1 FROM run_timers WHERE next_attempt_at IS NOT NULL'));
  return { sim, driver };
}

/**
 * The scheduled retry's time, moved to a second ago: as a driver sees it whose timer is late (its
 * event loop busy, the machine paused) and as a run killed in its back-off is found once the
 * wait is over. The driver's own timer still waits.
 */
function retryOverdue(sim: SimFixture): void {
  const db = new Database(sim.db);
  try {
    expect(db.prepare('UPDATE run_timers SET next_attempt_at = ? WHERE next_attempt_at IS NOT NULL').run(new Date(Date.now() - 1000).toISOString()).changes).toBe(1);
  } finally {
    db.close();
  }
}

/** The id of the one run in the fixture's database. */
function onlyRunIn(sim: SimFixture): string {
  const db = new Database(sim.db, { readonly: true });
  try {
    return (db.prepare('SELECT id FROM runs').get() as { id: string }).id;
  } finally {
    db.close();
  }
}

/** Until the run's lease has had no heartbeat for the stale period (and half a second). */
function silentPastStale(sim: SimFixture): Promise<void> {
  return until('no heartbeat for the stale period', () => dbHas(sim.db,
    'SELECT 1 FROM leases WHERE julianday(\'now\') - julianday(heartbeat_at) > ?', (STALE_MS + 500) / 86_400_000), { timeoutMs: 3 * STALE_MS });
}

const waitingAt = (manual: string, confirm: string): Case => ({
  name: `waiting at --manual ${manual}`, situation: 'waiting', processes: 1,
  command: (id) => `kms-recover confirm ${id} ${confirm}`,
  make: () => rested(['--manual', manual], 8),
});

const CASES: Case[] = [
  {
    name: 'finished', situation: 'finished', processes: 1, command: () => null,
    make: () => rested([], 0),
  },
  {
    name: 'working (a live driver held in its restore)', situation: 'working', processes: 1,
    command: (id) => `kms-recover watch ${id}`,
    make: async () => {
      const sim = await simFixture(['--extra-files', '10']);
      return { sim, driver: await heldInRestore(sim) };
    },
  },
  {
    name: 'retrying (a live driver in the back-off before attempt 2)', situation: 'retrying', processes: 1,
    command: (id) => `kms-recover watch ${id}`,
    make: () => liveInBackoff(),
  },
  {
    // Between the retry's time and the driver's RETRY the run is still the driver's: not failed, and not for `resume` (its lease is held).
    name: 'retrying, its retry overdue (the live driver\'s timer is late)', situation: 'retrying', processes: 1,
    command: (id) => `kms-recover watch ${id}`,
    make: async () => {
      const scene = await liveInBackoff();
      retryOverdue(scene.sim);
      return scene;
    },
  },
  {
    name: 'interrupted (its driver killed after the checkpoint of cleared)', situation: 'interrupted', processes: 1,
    command: (id) => `kms-recover resume ${id}`,
    make: () => killedAfterCheckpoint('cleared'),
  },
  {
    name: 'interrupted in a back-off (its driver killed while it waited to retry)', situation: 'interrupted', processes: 1,
    command: (id) => `kms-recover resume ${id}`,
    make: async () => {
      const sim = await simFixture();
      expectExit(await inBackoff(sim, { KMS_RECOVER_FAIL_AT: 'backoff-wait:clearKmsdata' }).done, 'SIGKILL');
      return { sim };
    },
  },
  {
    // Nobody retries it, whatever the clock says: `resume` does, at once.
    name: 'interrupted in a back-off whose wait is over', situation: 'interrupted', processes: 1,
    command: (id) => `kms-recover resume ${id}`,
    make: async () => {
      const sim = await simFixture();
      expectExit(await inBackoff(sim, { KMS_RECOVER_FAIL_AT: 'backoff-wait:clearKmsdata' }).done, 'SIGKILL');
      retryOverdue(sim);
      return { sim };
    },
  },
  {
    name: 'unresponsive (a live driver paused with SIGSTOP past the stale period)', situation: 'unresponsive', processes: 1, waitMs: STALE_MS,
    command: (id) => `kms-recover takeover ${id}`,
    make: async () => {
      const sim = await simFixture(['--extra-files', '10']);
      const driver = await heldInRestore(sim);
      process.kill(driver.child.pid!, 'SIGSTOP');
      await silentPastStale(sim);
      return { sim, driver, env: STALE };
    },
  },
  {
    // `resume` would be refused (its holder is alive): the one way on is takeover, as at any step.
    name: 'unresponsive in its finish (its driver blocked after the checkpoint of running)', situation: 'unresponsive', processes: 1, waitMs: STALE_MS,
    command: (id) => `kms-recover takeover ${id}`,
    make: async () => {
      const sim = await simFixture();
      const hold = holdAt(sim, 'after-checkpoint:running');
      const driver = spawnCli(startWithDiskArgs(sim), { env: hold.env });
      await hold.reached(driver);
      await silentPastStale(sim);
      return { sim, driver, env: STALE };
    },
  },
  waitingAt('stop', 'stopService'),
  {
    name: 'waiting after a confirm the server does not bear out (the KMS still runs)', situation: 'waiting', processes: 2,
    command: (id) => `kms-recover confirm ${id} stopService`,
    make: async () => {
      const { sim } = await rested(['--manual', 'stop'], 8);
      const early = await runCli(['confirm', onlyRunIn(sim), 'stopService', '--db', sim.db, '--startup-disk', sim.startupDisk]);
      expectExit(early, 8);
      expect(early.stdout).toMatch(/the step is not done yet: MSExchangeKMS is still running/);
      return { sim };
    },
  },
  waitingAt('clear', 'clearKmsdata'),
  waitingAt('restore', 'restoreKmsdata'),
  // The manual start covers KB steps 5-7: the run waits before its credential for the one confirm of startService.
  waitingAt('start', 'startService'),
  {
    name: 'failed (its only attempt of stopService failed)', situation: 'failed', processes: 1,
    command: (id) => `kms-recover resume ${id}`,
    make: () => rested(['--attempts', 'stopService=1'], 4, { KMS_RECOVER_FAULT: 'stopService:1' }),
  },
  {
    name: 'finishing (its driver killed after the checkpoint of running)', situation: 'finishing', processes: 1,
    command: (id) => `kms-recover resume ${id}`,
    make: () => killedAfterCheckpoint('running'),
  },
  {
    name: 'abandoned (while it waited at a manual stop)', situation: 'abandoned', processes: 2,
    command: () => 'kms-recover start',
    make: async () => {
      const { sim } = await rested(['--manual', 'stop'], 8);
      expectExit(await runCli(['abandon', onlyRunIn(sim), '--yes', '--db', sim.db]), 0);
      return { sim };
    },
  },
];

/** The screens the case reads the run with: status, list, history, history --json, diagram, watch, and status again once a driven run's driver died. */
const READERS = 7;

/** `next` as every screen must give it; an unresponsive holder's silence is counted in seconds at the moment of reading. */
const sameNext = (next: string | null) => next?.replace(/no heartbeat for \d+ s/g, 'no heartbeat for N s') ?? null;

describe('one truth of a run: status, list, watch, history and the diagram agree', () => {
  for (const c of CASES) it(c.name, async () => {
    const { sim, driver, env = {} } = await c.make();
    const read = (args: string[]) => runCli([...args, '--db', sim.db], { env });
    // A resting run is watched until someone drives it: one look (--once) is what is compared.
    const resting = c.situation !== 'working' && c.situation !== 'retrying';
    const watch = spawnCli(['watch', '--json', ...(resting ? ['--once'] : []), '--db', sim.db], { env });
    try {
      const status = parseJson<RunStatus>(await read(['status', '--json']));
      const id = status.runId;
      const [listResult, text, json, diagram] = await Promise.all([
        read(['list', '--json']), read(['history', id]), read(['history', id, '--json']), read(['diagram', '--run', id])]);
      const list = parseJson<RunListRow[]>(listResult).find((r) => r.runId === id);
      const history = parseJson<{ runId: string; situation: RunSituation; next: string | null; phase: string }>(json);

      expect(status.situation, status.next ?? '').toBe(c.situation);
      expect(status.rests).toBe(c.situation !== 'working' && c.situation !== 'retrying');
      const command = c.command(id);
      if (command === null) expect(status.next).toBeNull();
      else expect(status.next).toContain(printedCommand(command, sim.db));

      expect(list, 'list --json has a row of the run').toBeDefined();
      expect({ situation: list!.situation, phase: list!.phase, next: sameNext(list!.next) }, 'list --json')
        .toEqual({ situation: status.situation, phase: status.phase, next: sameNext(status.next) });
      expect({ situation: history.situation, next: sameNext(history.next) }, 'history --json')
        .toEqual({ situation: status.situation, next: sameNext(status.next) });
      expect(text.code).toBe(0);
      expect(text.stdout.split('\n')[0], 'the header of history').toMatch(new RegExp(`^Run ${id}: \\d+ events; now at ${status.state}, ${escape(SITUATION_WORDS[c.situation])}; times are local, UTC[+-]\\d\\d:\\d\\d$`));

      // The diagram's title: the run's next action, as status gives it (none once finished).
      expect(diagram.code, diagram.stderr).toBe(0);
      const diagramNext = diagram.stdout.split('\n').find((line) => line.startsWith('Next: ')) ?? null;
      expect(sameNext(diagramNext), 'the diagram\'s next').toBe(status.next === null ? null : sameNext(`Next: ${status.next}`));

      if (status.rests) {
        const watchedResult = await watch.done;
        const watched = parseJson<RunStatus>(watchedResult);
        // What watch printed, when it is not the run's status (a fresh-clone CI run once saw an error document here).
        expect({ situation: watched.situation, phase: watched.phase, next: sameNext(watched.next) }, `watch --json: ${watchedResult.stdout}${watchedResult.stderr}`)
          .toEqual({ situation: status.situation, phase: status.phase, next: sameNext(status.next) });
        return;
      }
      // A driven run: watch still watches after the others have read it; when its driver dies, it ends as status says.
      expect(watch.output().code, 'watch --json does not end while the run is driven').toBeNull();
      expect(watch.output().signal).toBeNull();
      driver!.child.kill('SIGKILL');
      const watched = parseJson<RunStatus>(await watch.done);
      const afterResult = await read(['status', '--json']);
      const after = parseJson<RunStatus>(afterResult);
      // What status printed, when it is not the run's status (a fresh-clone CI run once saw no situation here).
      expect(after.situation, `status --json after the kill: exit ${afterResult.code}\n${afterResult.stdout}${afterResult.stderr}`).toBe('interrupted');
      expect({ situation: watched.situation, phase: watched.phase, next: watched.next }, 'watch --json once the driver died')
        .toEqual({ situation: after.situation, phase: after.phase, next: after.next });
    } finally {
      // A case that failed early leaves no watch behind.
      if (watch.output().code === null && watch.output().signal === null) watch.child.kill('SIGKILL');
      await watch.done;
      if (driver) {
        try { process.kill(driver.child.pid!, 'SIGCONT'); } catch { /* gone */ }
        driver.child.kill('SIGKILL');
        await driver.done;
      }
    }
  }, cliLimit(c.processes + READERS, { waitMs: c.waitMs ?? 0 }));
});

function escape(words: string): string {
  return words.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
