import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { readDb, SIX_STATES } from '../helpers/event-log.js';
import { cleanupSimFixtures, disposeSimFixture, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit, slotLimit } from '../helpers/time-limit.js';
import { concurrencyLimit, crashSlots, expectRecovered, fileCount, resumeCli, staleLeaseOf, startCli, treeDigest } from './crash-checks.js';

/**
 * A SIGKILL at every fail point of host/fail-point.ts, then `resume` with the original alpha
 * string: the recovery must end exactly as an uninterrupted one does.
 */

const STEPS = [
  ['stopService', 'reinstalled'],
  ['clearKmsdata', 'stopped'],
  ['restoreKmsdata', 'cleared'],
  ['setCredential', 'restored'],
  ['startService', 'credential-set'],
] as const;

/** `sim init` writes 8 files of its own to Kmsdata, plus the extra ones. */
const SIM_BASE_FILES = 8;
const EXTRA_FILES = 30;
const BACKUP_FILES = SIM_BASE_FILES + EXTRA_FILES;
const SIM_ARGS = ['--extra-files', String(EXTRA_FILES), '--extra-bytes', '300000'];

interface Point {
  name: string;
  /** The committed state of the run when the process dies there. */
  stateAtKill: string;
  /**
   * Whether the dying process holds the run's lease there (so the resume takes it over, once).
   * `after-checkpoint:reinstalled` is the run's creation (start-run.ts), before driveRun leases it.
   */
  leaseHeld?: false;
}

const POINTS: Point[] = [
  { name: 'after-checkpoint:reinstalled', stateAtKill: 'reinstalled', leaseHeld: false },
  ...SIX_STATES.slice(1).map((state) => ({ name: `after-checkpoint:${state}`, stateAtKill: state })),
  ...STEPS.flatMap(([step, state]) => [
    { name: `before-step:${step}`, stateAtKill: state },
    { name: `after-step:${step}`, stateAtKill: state }, // the side effect is done, its checkpoint not yet written
  ]),
  { name: 'restore-after-file:1', stateAtKill: 'cleared' },
  { name: `restore-after-file:${Math.ceil(BACKUP_FILES / 2)}`, stateAtKill: 'cleared' },
  { name: `restore-after-file:${BACKUP_FILES}`, stateAtKill: 'cleared' }, // every file staged, nothing verified or renamed yet
  { name: 'quarantine-deleting', stateAtKill: 'running' }, // the reinstall's files proved and moved aside in the quarantine, not yet deleted
];

const SLOTS = crashSlots();
const slot = concurrencyLimit(SLOTS);
afterAll(cleanupSimFixtures); // a backstop: every case disposes of its own fixture

describe('a SIGKILL at each fail point, then resume', () => {
  // Each case: start (killed), resume, resume again, status; after its wait for a slot.
  it.concurrent.for(POINTS)('$name', { timeout: slotLimit(cliLimit(4), SLOTS) }, (point, { expect }) => slot(async () => {
    const sim = await simFixture(SIM_ARGS);
    try {
      const backupBefore = treeDigest(sim.backup);
      expect(fileCount(backupBefore), 'the backup sim init wrote (restore-after-file:n counts on it)').toBe(BACKUP_FILES);

      const killed = await startCli(sim, { KMS_RECOVER_FAIL_AT: point.name });
      // Soft: if a point is never reached, the rest of the case still checks the recovery.
      expect.soft(killed.signal, `start was not killed at ${point.name} (exit ${killed.code}):\n${killed.stderr}`).toBe('SIGKILL');

      const atKill = readDb(sim.db);
      expect(atKill?.runs, 'the run exists at the kill').toHaveLength(1);
      const run = atKill!.runs[0]!;
      expect.soft(run.state, `the run's committed state when killed at ${point.name}`).toBe(point.stateAtKill);
      const leaseAtKill = atKill!.leases.some((l) => l.runId === run.id);
      expect.soft(leaseAtKill, 'the killed process held the run\'s lease').toBe(point.leaseHeld ?? true);
      const mustTakeOver = staleLeaseOf(atKill); // held by the dead process, on a run not yet finished

      const resumed = await resumeCli(sim);
      if (run.phase === 'done') {
        // Killed after the `running` checkpoint, before the run's finish (quarantine removed, lease
        // released): resume completes that finish.
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(resumed.stdout).toMatch(/interrupted finish is now complete/);
      } else {
        expect(resumed.code, resumed.stderr).toBe(0);
        if (mustTakeOver) expect.soft(resumed.stderr).toMatch(/took the run over from pid \d+/);
      }
      const again = await resumeCli(sim, [run.id]);
      expect.soft(again.code, again.stderr).toBe(7);
      expect.soft(again.stderr).toMatch(/already finished/);

      await expectRecovered(expect, sim, backupBefore, { takeovers: mustTakeOver ? 1 : 0 });
    } finally {
      await disposeSimFixture(sim);
    }
  }));
});

describe('a SIGKILL inside the deletion of the quarantine, then resume', () => {
  it('a folder of the reinstall left part-deleted by the kill is deleted by the resume, not kept as if someone had changed it', { timeout: cliLimit(4) }, async ({ expect }) => {
    const sim = await simFixture(SIM_ARGS);
    try {
      const backupBefore = treeDigest(sim.backup);
      const killed = await startCli(sim, { KMS_RECOVER_FAIL_AT: 'quarantine-deleting' });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      // What a kill a moment later leaves: one file of the reinstall's certs folder deleted, the rest not.
      const exchsrvr = path.dirname(sim.kmsdata);
      const quarantine = path.join(exchsrvr, fs.readdirSync(exchsrvr).find((n) => n.startsWith('Kmsdata.quarantine-'))!);
      const certs = path.join(quarantine, '.kms-recover-deleting', 'certs');
      fs.rmSync(path.join(certs, fs.readdirSync(certs)[0]!));

      const resumed = await resumeCli(sim);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).not.toMatch(/left as is/);
      await expectRecovered(expect, sim, backupBefore, { takeovers: 1 });
    } finally {
      await disposeSimFixture(sim);
    }
  });
});
