import { afterEach, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, cliEnv, runCli } from '../helpers/run-cli.js';
import { serviceState, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { dbHas, until } from '../helpers/wait.js';
import { spawn } from 'node:child_process';
import { expectRecovered, resumeCli, treeDigest } from './crash-checks.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * A kill or a reboot during the settle window resumes into the window, not past it: the window
 * is part of the start step, which XState runs again when the persisted snapshot is restored
 * (the step was in flight), and it is watched again in full.
 */

const SETTLE = 4;

/** `start --settle 4`, SIGKILLed once its settle window is under way (its progress row says `settle`). */
async function killedInTheWindow(sim: SimFixture): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', sim.db,
    '--startup-disk', sim.startupDisk, '--settle', String(SETTLE)], { cwd: REPO_ROOT, env: cliEnv(), stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  await until('the settle window', () => dbHas(sim.db, "SELECT 1 FROM run_progress WHERE activity = 'settle'"), { timeoutMs: 60_000, everyMs: 50 });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  const status = await statusOf(sim);
  expect(status.state).toBe('credential-set');
  expect(status.situation).toBe('interrupted');
}

describe('a kill during the settle window', () => {
  for (const reboot of [false, true]) {
    it(`SIGKILL${reboot ? ' and a sim reboot' : ''} in the window: resume waits a full window again, then ends running`, async () => {
      const sim = await simFixture();
      const backup = treeDigest(sim.backup);
      await killedInTheWindow(sim);
      if (reboot) {
        // Power loss and boot: the KMS is killed and starts again at boot (its startup disk is in A:).
        const rebooted = await runCli(['sim', 'reboot', sim.root]);
        expect(rebooted.code, rebooted.stderr).toBe(0);
      }
      expect(await serviceState(sim)).toBe('running');
      const began = Date.now();
      const resumed = await resumeCli(sim);
      const tookMs = Date.now() - began;
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(tookMs, 'resume watched the KMS for a full window').toBeGreaterThanOrEqual(SETTLE * 1000);
      expect(resumed.stderr).toMatch(new RegExp(`watching it for ${SETTLE} s \\(settle window\\)`));
      expect((await statusOf(sim)).settled).toMatchObject({ seconds: SETTLE, restoredFile: true });
      await expectRecovered(expect, sim, backup, { takeovers: 1 });
      // The killed start (spawned here, not counted by run-cli), the status checks, the reboot, the resume.
    }, cliLimit(reboot ? 6 : 5, { waitMs: 2 * SETTLE * 1000 }));
  }
});
