import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventRows } from '../helpers/event-rows.js';
import { runCli } from '../helpers/run-cli.js';
import { resumeWithDisk, startWithDiskArgs } from '../helpers/sim-cli.js';
import { holdAt } from '../helpers/hold.js';
import { cleanupSimFixtures, disposeSimFixture, simFixture, treeBytes } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';
import { until } from '../helpers/wait.js';
import { concurrencyLimit } from './crash-checks.js';

afterAll(cleanupSimFixtures); // a backstop: every trial disposes of its own server

/*
 * The clear must never escape Kmsdata. While it runs, a helper process swaps `Exchsrvr/Kmsdata`
 * with a symbolic link to an unrelated folder (atomically, renameat2 RENAME_EXCHANGE) in a tight
 * loop. Over many trials no entry of that folder may ever be moved or deleted, and every run
 * either refuses with one clear error (then a resume, with the swapping over, finishes) or ends
 * `running` with Kmsdata equal to the backup.
 */

const SWAPPER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers/swap-dirs.py');
const canSwap = process.platform === 'linux' && spawnSync('python3', ['-c', 'import ctypes; ctypes.CDLL(None).renameat2']).status === 0;
const TRIALS = Number(process.env.KMS_RECOVER_SWAP_TRIALS ?? 20);

/** Trials at once: each has its own server; two keep both CPUs racing. */
const AT_ONCE = 2;

describe('the clear under a swap race', () => {
  it.skipIf(!canSwap)(`never moves an entry of another folder (${TRIALS} trials, ${AT_ONCE} at once)`, async () => {
    const outcomes: Record<string, number> = {};
    /** Trials in which the swapper swapped at least once before the clear was over. */
    let raced = 0;
    const count = (where: string) => { outcomes[where] = (outcomes[where] ?? 0) + 1; };

    async function trial(n: number): Promise<void> {
      const sim = await simFixture();
      try {
        const victim = path.join(sim.dir, 'victim');
        fs.mkdirSync(victim);
        for (let i = 0; i < 21; i += 1) fs.writeFileSync(path.join(victim, `mail-${i}.edb`), `mailbox ${i}\n`);
        const victimBefore = treeBytes(victim);
        const link = path.join(path.dirname(sim.kmsdata), 'Kmsdata.swap');
        fs.symlinkSync(victim, link);

        // The run is held at `stopped`; the swapping starts then (the swapper, already running,
        // waits for its trigger file), the run goes on once it is under way, and it lasts through
        // the clear: until the run has checkpointed `cleared`, or has ended, or 10 s have passed
        // (a clear that keeps meeting a swapped Kmsdata goes on once the swapping is over).
        const trigger = path.join(sim.dir, 'swap-now');
        const swapper = spawn('python3', [SWAPPER, sim.kmsdata, link, '10', trigger], { stdio: ['ignore', 'pipe', 'ignore'] });
        let swapperOut = '';
        swapper.stdout.on('data', (d: Buffer) => { swapperOut += d.toString(); });
        let swapperEnded = false;
        const swapped = new Promise((resolve) => swapper.on('close', () => { swapperEnded = true; resolve(undefined); }));
        const hold = holdAt(sim, 'after-checkpoint:stopped');
        const run = runCli(startWithDiskArgs(sim), { env: hold.env });
        let ended = false;
        void run.finally(() => { ended = true; });
        await until('the run to reach stopped', () => ended || hold.held());
        fs.writeFileSync(trigger, '');
        await until('the swapping to be under way', () => ended || swapperEnded || fs.existsSync(`${trigger}.swapping`));
        hold.release();
        await until('the clear to be over', () => ended || eventRows(sim.db).some((e) => e.to_state === 'cleared'));
        swapper.kill('SIGTERM');
        await swapped;
        const first = await run;
        if (Number(swapperOut.trim()) > 0) raced += 1;
        fs.rmSync(link);

        expect(treeBytes(victim), `trial ${n}: the other folder is untouched`).toEqual(victimBefore);
        if (first.code === 0) {
          count('running');
        } else {
          const errors = first.stderr.trim().split('\n').filter((l) => l.startsWith('kms-recover:'));
          expect(errors, first.stderr).toHaveLength(0); // a step failure is reported on stdout, the run kept
          expect(first.stdout, first.stdout).toMatch(/KMSDATA_REPLACED|is no longer the folder checked at the start|symbolic link|does not exist|changed while it was being checked/);
          count(`refused at ${first.stdout.match(/stopped at ([a-z-]+)/)?.[1] ?? 'start'}`);
          const resumed = await resumeWithDisk(sim);
          expect(resumed.code, resumed.stderr).toBe(0);
        }
        expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
        expect(treeBytes(victim)).toEqual(victimBefore);
      } finally {
        await disposeSimFixture(sim);
      }
    }

    const slot = concurrencyLimit(AT_ONCE);
    await Promise.all(Array.from({ length: TRIALS }, (_, n) => slot(() => trial(n))));
    console.log(`swap race: ${TRIALS} trials, ${raced} of them swapped during the clear: ${JSON.stringify(outcomes)}`);
    // A trial whose swapping never overlapped the clear proves nothing: held until the swapping is
    // under way, every one must have raced.
    expect(raced, 'trials in which the swapping overlapped the clear').toBe(TRIALS);
  }, cliLimit(2 * TRIALS)); // each trial: start, and resume if it was refused (AT_ONCE at a time: a ceiling to spare)
});
