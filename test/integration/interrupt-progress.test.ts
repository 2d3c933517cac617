import { afterEach, describe, expect, it } from 'vitest';
import { holdAt } from '../helpers/hold.js';
import { printed, runCli, spawnCli } from '../helpers/run-cli.js';
import { startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * Ctrl-C in the middle of a restore: the progress the driver held back (it writes at most every
 * 300 ms) is written as it stops, so `status` says how far the copy got, not the count of its
 * first write. The process is blocked after file 120 (no timer of its can fire: a held-back
 * report could only reach the database through the interrupt), and the SIGINT comes meanwhile.
 */

const AFTER = 120;

describe('progress saved on Ctrl-C', () => {
  it(`SIGINT after file ${AFTER} of a restore: status shows at least ${AFTER} files copied, and the run resumes`, async () => {
    const sim = await simFixture(['--extra-files', '300', '--extra-bytes', '3000000']);
    const hold = holdAt(sim, `restore-after-file:${AFTER}`, 'block');
    const driver = spawnCli(startWithDiskArgs(sim), { env: hold.env });
    await hold.reached(driver);
    driver.child.kill('SIGINT');
    hold.release();
    await printed(driver, /stopping at the next safe point/, 'stderr');
    expect((await driver.done).code).toBe(130);

    const status = await statusOf(sim);
    expect(status.situation).toBe('interrupted');
    expect(status.progress).toMatchObject({ step: 'restoreKmsdata', activity: 'copy', stalledMs: null });
    expect(status.progress!.filesDone).toBeGreaterThanOrEqual(AFTER);
    expect(status.progress!.filesDone).toBeLessThan(status.progress!.filesTotal);
    const text = await runCli(['status', '--db', sim.db]);
    const shown = /^Progress: restoring from the backup: (\d+) of (\d+) files, /m.exec(text.stdout);
    expect(shown, text.stdout).not.toBeNull();
    expect(Number(shown![1])).toBe(status.progress!.filesDone);
    // Nobody drives it: no time left is promised.
    expect(shown![0]).not.toContain('left');

    expect((await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk])).code).toBe(0);
  }, cliLimit(4));
});
