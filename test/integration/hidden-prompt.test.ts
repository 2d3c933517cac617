import { spawn, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, withTestSettle } from '../helpers/run-cli.js';
import { cleanupSimFixtures, filesContaining, simFixture, treeBytes } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

const hasScript = spawnSync('script', ['--version']).status === 0;

/**
 * The alpha string typed at a hidden prompt on a real terminal: `script` (util-linux) gives the
 * CLI a pseudo-terminal; the test types only once the prompt is shown, and the terminal output
 * must never show what was typed.
 */
describe.runIf(hasScript)('hidden prompt on a terminal', () => {
  it('reads the alpha string without echoing it, and the recovery finishes', async () => {
    const sim = await simFixture();
    const command = [process.execPath, CLI, ...withTestSettle(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--db', sim.db])]
      .map((a) => `'${a}'`).join(' ');
    const env = { ...process.env };
    delete env.KMS_ALPHA_STRING;
    const child = spawn('script', ['-qec', command, '--echo', 'never', '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let typed = false;
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      if (!typed && screen.includes('Alpha string of the original Key Management Server:')) {
        typed = true;
        child.stdin.write(`${sim.alpha}\r`);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(typed).toBe(true);
    expect(screen).toContain('is running: recovery complete');
    expect(code).toBe(0);
    expect(screen).not.toContain(sim.alpha);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    expect(filesContaining([sim.db, `${sim.db}-wal`, sim.log], sim.alpha)).toEqual([]);
  }, cliLimit(1));
});
