import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

/*
 * Issue 22's "words an administrator can follow", as far as the manual steps go: the steps
 * name the run's real folders, a refused confirm names what is left, and the `Next:` command a
 * screen prints is run as printed (after its program name: the README puts `kms-recover` on the
 * PATH; the database is found by KMS_RECOVER_DB, as an operator who set it would).
 */

afterEach(cleanupSimFixtures);

/** The command of a screen's `Next:` line. */
function nextCommand(stdout: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith('Next: '));
  expect(line, stdout).toBeDefined();
  return line!.slice('Next: '.length);
}

/** `kms-recover confirm 1a2b clearKmsdata --startup-disk "C:\\A B\\Kmspwd.ini"` into its arguments, as a shell would split it. */
function argv(command: string): string[] {
  const words = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  expect(words[0]).toBe('kms-recover');
  return words.slice(1);
}

describe('commands that work as printed', () => {
  it('a manual clear names the real folder, a refused confirm names what is left, and the printed confirm finishes the run', async () => {
    const sim = await simFixture();
    const started = await runCli(startWithDiskArgs(sim, ['--manual', 'clear']));
    expect(started.code).toBe(8);
    expect(started.stdout).toContain(`Go to the ${sim.kmsdata} directory and delete everything in it, files and folders`);
    expect(started.stdout).not.toContain('<path>');
    const command = nextCommand(started.stdout);
    expect(command).toMatch(/^kms-recover confirm \w+ clearKmsdata --startup-disk /);
    const env = { KMS_RECOVER_DB: sim.db };

    // Files deleted, a folder left: the refusal names it, once, and the run keeps waiting.
    for (const entry of fs.readdirSync(sim.kmsdata)) if (fs.statSync(path.join(sim.kmsdata, entry)).isFile()) fs.rmSync(path.join(sim.kmsdata, entry));
    fs.mkdirSync(path.join(sim.kmsdata, 'certs'), { recursive: true });
    const refused = await runCli(argv(command), { env });
    expect(refused.code).toBe(8);
    expect(refused.stdout).toContain(`the step is not done yet: ${sim.kmsdata} still holds certs.`);
    expect(refused.stdout.match(/not done yet/g)).toHaveLength(1);
    expect(nextCommand(refused.stdout)).toBe(command);

    fs.rmSync(path.join(sim.kmsdata, 'certs'), { recursive: true });
    const done = await runCli(argv(command), { env });
    expect(done.code, `${done.stdout}${done.stderr}`).toBe(0);
    expect(done.stdout).toContain('recovery complete');
    expect(done.stderr).not.toContain('top-level entries are kept');
    expect(await statusOf(sim)).toMatchObject({ situation: 'finished' });
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(4));

  it('a refusal of many entries names five and counts the rest', async () => {
    const sim = await simFixture();
    expect((await runCli(startWithDiskArgs(sim, ['--manual', 'clear']))).code).toBe(8);
    for (const name of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']) fs.writeFileSync(path.join(sim.kmsdata, name), '');
    const left = fs.readdirSync(sim.kmsdata).sort();
    const { runId } = await statusOf(sim);
    const refused = await runCli(['confirm', runId, 'clear', '--db', sim.db, '--startup-disk', sim.startupDisk]);
    expect(refused.code).toBe(8);
    expect(refused.stdout).toContain(`still holds ${left.length} entries: ${left.slice(0, 5).join(', ')} and ${left.length - 5} more.`);
  }, cliLimit(3));
});
