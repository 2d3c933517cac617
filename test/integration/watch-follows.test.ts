import { spawn, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../recovery/run-status.js';
import { holdAt } from '../helpers/hold.js';
import { CLI, cliEnv, parseJson, printed, runCli, spawnCli } from '../helpers/run-cli.js';
import { until } from '../helpers/wait.js';
import { startArgs, startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * `watch` from a second console follows what is about to happen, with real processes on the
 * simulator: a run nobody drives (interrupted, waiting for a manual step) is watched until
 * someone picks it up, and that drive is followed to its end; `--once` is one look; Ctrl-C stops
 * the watching, not the run.
 */

describe('watch follows the drive that picks a resting run up', () => {
  it('an interrupted run: watch waits, saying for which command; a resume from another console is followed to running, exit 0', async () => {
    const sim = await simFixture(['--extra-files', '10']);
    const killed = await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' } });
    expect(killed.signal).toBe('SIGKILL');
    const before = await statusOf(sim);
    expect(before.situation).toBe('interrupted');
    const id = before.runId;

    // One look, for scripts: it ends at once, as status does.
    const once = await runCli(['watch', '--once', '--db', sim.db]);
    expect(once.code).toBe(0);
    expect(once.stdout).not.toContain('Watching:');
    expect(once.stdout.trimEnd().split('\n').at(-1)).toBe(`Run ${id} was interrupted during KB step 4 (restoreKmsdata): nothing is lost; run ${before.resumeCommand}`);
    const onceJson = await runCli(['watch', '--once', '--json', '--db', sim.db]);
    expect(parseJson<RunStatus>(onceJson)).toMatchObject({ runId: id, situation: 'interrupted' });

    const watching = spawnCli(['watch', '--db', sim.db]);
    await printed(watching, new RegExp(`^Watching: nobody drives the run; when someone runs ${escape(before.resumeCommand)} in any console, this screen follows it$`, 'm'));
    expect(watching.output().code, 'watch stays while nobody drives the run').toBeNull();

    // The resume, held in its restore until watch has shown it driving the run.
    const hold = holdAt(sim, 'restore-after-file:3', 'stall');
    const resume = spawnCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk], { env: hold.env });
    await hold.reached(resume);
    await printed(watching, new RegExp(`^Driven by: pid ${resume.child.pid} on `, 'm'));
    await printed(watching, /\[>\] restored +KB 4 +working now/);
    hold.release();

    expect((await resume.done).code).toBe(0);
    const watched = await watching.done;
    expect(watched.code).toBe(0);
    expect(watched.stdout.trimEnd().split('\n').at(-1)).toBe(`Run ${id} is running: recovery complete: MSExchangeKMS has run for 0 s on the restored database.`);
  }, cliLimit(7));

  it('a run waiting for a manual step: watch waits for the confirm it names; Ctrl-C stops the watching (exit 130), not the run', async () => {
    const sim = await simFixture();
    expect((await runCli(startArgs(sim, ['--manual', 'startService']))).code).toBe(8);
    const { runId, waitingFor } = await statusOf(sim);
    const watching = spawnCli(['watch', '--db', sim.db]);
    await printed(watching, new RegExp(`^Watching: nobody drives the run; when someone runs ${escape(waitingFor!.command)} in any console`, 'm'));
    expect(watching.output().code).toBeNull();
    watching.child.kill('SIGINT');
    const stopped = await watching.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toContain('Stopped watching (Ctrl-C); the run itself is not touched.');
    expect(stopped.stdout).toContain(`Next: ${waitingFor!.command}`);
    expect(await statusOf(sim)).toMatchObject({ runId, situation: 'waiting' });
  }, cliLimit(4));

  it('a confirm from another console that finds the step not done: watch follows it to its rest and ends', async () => {
    const sim = await simFixture();
    expect((await runCli(startArgs(sim, ['--manual', 'startService']))).code).toBe(8);
    const { waitingFor } = await statusOf(sim);
    const watching = spawnCli(['watch', '--db', sim.db]);
    await printed(watching, /^Watching: /m);
    // Nobody started the service: the confirm's check finds it not done, and the run waits again.
    const confirm = await runCli(['confirm', ...waitingFor!.command.split(' ').slice(2), '--db', sim.db]);
    expect(confirm.code).toBe(8);
    const watched = await watching.done;
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain('Your confirm was checked');
  }, cliLimit(5));
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.runIf(hasScript)('watch on a real terminal', () => {
  it('started before the resume, it redraws in place and follows the resume to running, exit 0', async () => {
    const sim = await simFixture();
    expect((await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:stopped' } })).signal).toBe('SIGKILL');
    const { runId, resumeCommand } = await statusOf(sim);
    // The CLI on a pseudo-terminal (`script`): stdout is a terminal, so the screen is redrawn in place.
    const command = [process.execPath, CLI, 'watch', '--db', sim.db].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qec', command, '--echo', 'never', '/dev/null'], { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => { screen += d.toString(); });
    const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // The terminal's lines wrap at its width: read the screen's words as one line.
      const words = () => screen.replace(/\s+/g, ' ');
      await until('the terminal to show what watch waits for', () => words().includes(`when someone runs ${resumeCommand} in any console`));
      expect(screen).toContain(`\u001b[H\u001b[2Jkms-recover watch ${runId}: `);
      expect((await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk])).code).toBe(0);
      expect(await ended).toBe(0);
      expect(words()).toContain(`Run ${runId} is running: recovery complete`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, cliLimit(5));
});

function escape(words: string): string {
  return words.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
