import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliEnv, printedCommand, REPO_ROOT, runCli } from '../helpers/run-cli.js';
import { startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

/*
 * The README's "Put kms-recover on your PATH": `npm link` from the clone. Linked here into a
 * global prefix of the test's own (npm_config_prefix; `--prefix` would also move the project
 * npm links), offline and without scripts (the build is there already, and this test must not
 * rebuild dist under the other tests): the linked kms-recover works from any folder, and the
 * commands it prints are `kms-recover …`, which work as typed.
 */

afterEach(cleanupSimFixtures);

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

describe('npm link puts kms-recover on the PATH', () => {
  it.skipIf(process.platform === 'win32')('a linked kms-recover runs from another folder, and prints commands that work there', async ({ skip }) => {
    const prefix = tempDir('kms-prefix-');
    const link = spawnSync('npm', ['link', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: REPO_ROOT, env: { ...cliEnv({ npm_config_prefix: prefix }) }, encoding: 'utf8', timeout: 120_000,
    });
    if (link.error || link.status !== 0) {
      skip(`npm cannot link offline here: ${link.error?.message ?? `exit ${link.status}: ${link.stderr.trim().split('\n').at(-1)}`}`);
      return;
    }
    const bin = path.join(prefix, 'bin');
    expect(fs.realpathSync(path.join(bin, 'kms-recover'))).toBe(fs.realpathSync(path.join(REPO_ROOT, 'dist/cli/index.js')));

    const elsewhere = tempDir('kms-elsewhere-');
    const version = spawnSync(path.join(bin, 'kms-recover'), ['--version'], { cwd: elsewhere, env: cliEnv(), encoding: 'utf8' });
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);

    // Only the linked folder and node's on the PATH, as in an administrator's console after npm link.
    const env = { PATH: [bin, path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter) };
    const sim = await simFixture();
    const started = await runCli(startWithDiskArgs(sim, ['--manual', 'stop']), { env, cwd: elsewhere });
    expect(started.code, started.stderr).toBe(8);
    const { runId } = await statusOf(sim);
    const next = started.stdout.split('\n').find((l) => l.startsWith('Next: '))!.slice('Next: '.length);
    expect(next).toBe(printedCommand(`kms-recover confirm ${runId} stopService --startup-disk ${sim.startupDisk}`, sim.db));

    await runCli(['sim', 'stop', sim.root]);
    const confirmed = spawnSync('sh', ['-c', next], { cwd: tempDir('kms-other-'), env: cliEnv(env), encoding: 'utf8' });
    expect(confirmed.status, `${confirmed.stdout}${confirmed.stderr}`).toBe(0);
    expect((await statusOf(sim)).situation).toBe('finished');
  }, cliLimit(8));
});
