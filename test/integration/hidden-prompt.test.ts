import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, cliEnv, withTestSettle } from '../helpers/run-cli.js';
import { cleanupSimFixtures, filesContaining, simFixture, treeBytes } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

const hasScript = spawnSync('script', ['--version']).status === 0;
const PROMPT = 'Alpha string of the original Key Management Server:';

/**
 * The CLI on a real terminal: `script` (util-linux) gives it a pseudo-terminal, with no alpha
 * string in its environment. `answer` is typed once the prompt is shown (never before).
 */
async function onTerminal(args: string[], answer?: string): Promise<{ screen: string; code: number | null; prompted: boolean }> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', command, '--echo', 'never', '/dev/null'], { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let prompted = false;
  child.stdout.on('data', (d: Buffer) => {
    screen += d.toString();
    if (!prompted && screen.includes(PROMPT)) {
      prompted = true;
      if (answer !== undefined) child.stdin.write(answer);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { screen, code, prompted };
}

describe.runIf(hasScript)('hidden prompt on a terminal', () => {
  it('reads the alpha string without echoing it, and the recovery finishes', async () => {
    const sim = await simFixture();
    const { screen, code, prompted } = await onTerminal(withTestSettle(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', sim.db]), `${sim.alpha}\r`);
    expect(prompted).toBe(true);
    expect(screen).toContain('is running: recovery complete');
    expect(code).toBe(0);
    expect(screen).not.toContain(sim.alpha);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    expect(filesContaining([sim.db, `${sim.db}-wal`, sim.log], sim.alpha)).toEqual([]);
  }, cliLimit(1));

  it('Ctrl-C at the prompt stops the start with exit 130, as Ctrl-C does at any moment, and changes nothing', async () => {
    const sim = await simFixture();
    const before = treeBytes(sim.kmsdata);
    const { screen, code, prompted } = await onTerminal(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', sim.db], '\u0003');
    expect(prompted).toBe(true);
    expect(code).toBe(130);
    expect(screen).toContain('kms-recover: stopped by Ctrl-C at the alpha string prompt; nothing was changed');
    expect(treeBytes(sim.kmsdata)).toEqual(before);
    // No run was written: the database is only created once the preflight has passed.
    expect(fs.existsSync(sim.db)).toBe(false);
  }, cliLimit(1));

  it('start --dry-run on a terminal asks for no alpha string, and its plan says the start will', async () => {
    const sim = await simFixture();
    const { screen, code, prompted } = await onTerminal(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', sim.db, '--dry-run']);
    expect(prompted).toBe(false);
    expect(code).toBe(0);
    expect(screen).toContain('Dry run: the preflight passed');
    expect(screen).toContain('Alpha string: not asked for now; the start asks for it at a hidden prompt');
  }, cliLimit(1));
});

describe.runIf(hasScript)('confirm checks first, asks last', () => {
  it('a confirm of a manual clear not done asks for nothing; once done, the alpha string is asked after the check, and the recovery finishes', async () => {
    const sim = await simFixture();
    const started = await onTerminal(withTestSettle(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', sim.db, '--manual', 'clear', '--startup-disk', sim.startupDisk]));
    expect(started.code, started.screen).toBe(8);
    const runId = /Run ([0-9a-f]{8})/.exec(started.screen)![1]!;

    // Not done: the check on the server refuses it, and no alpha string was asked for.
    const early = await onTerminal(['confirm', runId, 'clear', '--db', sim.db], `${sim.alpha}\r`);
    expect(early.prompted, early.screen).toBe(false);
    expect(early.code, early.screen).toBe(8);
    expect(early.screen).toContain('still holds');

    // Done by hand, as the words say (everything in Kmsdata, folders too): checked, then asked, then on to running.
    for (const entry of fs.readdirSync(sim.kmsdata)) fs.rmSync(`${sim.kmsdata}/${entry}`, { recursive: true, force: true });
    const done = await onTerminal(['confirm', runId, 'clear', '--db', sim.db], `${sim.alpha}\r`);
    expect(done.prompted, done.screen).toBe(true);
    expect(done.code, done.screen).toBe(0);
    expect(done.screen.indexOf('cleared')).toBeLessThan(done.screen.indexOf(PROMPT));
    expect(done.screen).toContain('is running: recovery complete');
    expect(done.screen).not.toContain(sim.alpha);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(3));
});
