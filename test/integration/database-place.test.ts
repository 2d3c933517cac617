import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, cliEnv, parseJson, runCli, UNWRAPPED_COLUMNS, type CliResult } from '../helpers/run-cli.js';
import { serviceState, startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * Where the database is kept (issue 22, "a database in a fixed place"): the default place does
 * not follow the current folder, an old ./kms-recover.db is still found, and the database's
 * folder is checked before anything else (before the backup is read).
 */

const isRoot = process.getuid?.() === 0;

/**
 * Runs the CLI as a user who is not root: root reads and writes any folder, and keeps its
 * default database in /var/lib/kms-recover (the tests never write there). As root: as nobody
 * (setpriv), with a bare environment; otherwise as the test's own user.
 */
function runAsUser(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<CliResult> {
  const env = isRoot ? { PATH: process.env.PATH ?? '', COLUMNS: UNWRAPPED_COLUMNS, ...options.env } : cliEnv({ KMS_RECOVER_HOME: undefined, ...options.env });
  const [command, argv] = isRoot
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args]] as const
    : [process.execPath, [CLI, ...args]] as const;
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A refused start: one line, exit 3, the code asked for, before the backup was read; nothing made, the server as it was. */
async function expectRefusedFirst(sim: SimFixture, result: CliResult, code: string, message: RegExp): Promise<void> {
  expect(result.code, result.stderr).toBe(3);
  expect(parseJson<{ error: { code: string } }>(result).error.code).toBe(code);
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/reading the backup/);
  expect(fs.existsSync(path.join(path.dirname(sim.kmsdata), 'kms-recover.claim'))).toBe(false);
  expect(await serviceState(sim)).toBe('running');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the database\'s folder is checked first', () => {
  it('a folder named by --db or KMS_RECOVER_DB that does not exist is PATH_MISSING (exit 3) with the mkdir to run, before the backup is read; it is not created', async () => {
    const sim = await simFixture();
    const missing = path.join(sim.dir, 'no such folder');
    const db = path.join(missing, 'runs.db');
    const mkdir = new RegExp(`the database's folder ${escape(missing)} does not exist: create it with: mkdir -p '${escape(missing)}'`);
    await expectRefusedFirst(sim, await runCli(startWithDiskArgs(sim, ['--json'], db)), 'PATH_MISSING', mkdir);
    const viaEnv = startWithDiskArgs(sim, ['--json']).filter((arg, i, all) => arg !== '--db' && all[i - 1] !== '--db');
    await expectRefusedFirst(sim, await runCli(viaEnv, { env: { KMS_RECOVER_DB: db } }), 'PATH_MISSING', mkdir);
    expect(fs.existsSync(missing)).toBe(false);
    // The mkdir printed is the one that makes it work.
    fs.mkdirSync(missing);
    const started = await runCli(startWithDiskArgs(sim, [], db));
    expect(started.code, started.stderr).toBe(0);
  }, cliLimit(4));

  it('demo checks the folder of its --db before it builds the simulated server', async () => {
    const sim = await simFixture(); // for its temporary folder and cleanup
    const demoRoot = path.join(sim.dir, 'demo');
    const result = await runCli(['demo', '--dir', demoRoot, '--db', path.join(sim.dir, 'nope', 'x.db'), '--json']);
    expect(result.code, result.stderr).toBe(3);
    expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('PATH_MISSING');
    expect(fs.existsSync(demoRoot)).toBe(false);
  }, cliLimit(1));

  it('a folder this user may not write in is ACCESS_DENIED (exit 3), with its remedy, before the backup is read', async () => {
    const sim = await simFixture();
    const locked = path.join(sim.dir, 'locked');
    fs.mkdirSync(locked);
    // Everything else readable by that user (the backup, the startup disk): only the folder is refused.
    if (isRoot) spawnSync('chmod', ['-R', 'a+rwX', sim.dir]);
    fs.chmodSync(locked, 0o555);
    const result = await runAsUser([...startWithDiskArgs(sim, ['--json'], path.join(locked, 'runs.db'))], { cwd: sim.dir, env: {} });
    await expectRefusedFirst(sim, result, 'ACCESS_DENIED',
      new RegExp(`the database's folder ${escape(locked)} is not writable \\(permission denied\\): run the command as a user who may write there, or give --db`));
    expect(fs.readdirSync(locked)).toEqual([]);
  }, cliLimit(1));
});

describe('the default place', () => {
  it('start makes the default folder (0700) in the user\'s state folder; status finds the run from any folder; read commands before it say where they looked and make nothing', async () => {
    const sim = await simFixture(); // for its temporary folder and cleanup
    fs.chmodSync(sim.dir, 0o777);
    const state = path.join(sim.dir, 'state');
    const folder = path.join(state, 'kms-recover');
    const env = { XDG_STATE_HOME: state, HOME: path.join(sim.dir, 'home') };

    const before = await runAsUser(['status'], { cwd: '/', env });
    expect(before.code, before.stderr).toBe(7);
    expect(before.stderr.trim()).toBe(`kms-recover: no kms-recover database at ${path.join(folder, 'kms-recover.db')} (the default place) nor /kms-recover.db: no runs yet; a run started with --db or KMS_RECOVER_DB is read with the same option`);
    expect((await runAsUser(['list'], { cwd: '/', env })).code).toBe(7);
    expect(fs.existsSync(state)).toBe(false);

    const demoRoot = path.join(sim.dir, 'demo');
    const demo = await runAsUser(['demo', '--dir', demoRoot, '--settle', '0'], { cwd: sim.dir, env });
    await runAsUser(['sim', 'stop', demoRoot], { cwd: sim.dir, env });
    expect(demo.code, demo.stderr).toBe(0);
    expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(folder).filter((n) => !n.endsWith('-wal') && !n.endsWith('-shm')).sort()).toEqual(['kms-recover.db', 'kms-recover.log']);

    const status = await runAsUser(['status', '--json'], { cwd: '/', env });
    expect(status.code, status.stderr).toBe(0);
    expect(parseJson<{ state: string }>(status).state).toBe('running');
    expect(status.stderr).toBe('');
  }, cliLimit(6));

  it('an old ./kms-recover.db in the current folder is used and said once on stderr; KMS_RECOVER_DB and --db win', async () => {
    const sim = await simFixture();
    const here = path.join(sim.dir, 'here');
    fs.mkdirSync(here);
    const old = path.join(here, 'kms-recover.db');
    expect((await runCli(startWithDiskArgs(sim, [], old))).code).toBe(0);

    const status = await runCli(['status', '--json'], { cwd: here });
    expect(status.code, status.stderr).toBe(0);
    expect(parseJson<{ state: string }>(status).state).toBe('running');
    const said = status.stderr.split('\n').filter((l) => l.includes('in this folder'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(new RegExp(`^kms-recover: using \\./kms-recover\\.db in this folder \\(found here: ${escape(old)}\\); the default place is now /`));

    // KMS_RECOVER_DB names another database: the old one is not looked at, and not mentioned.
    const other = await runCli(['list'], { cwd: here, env: { KMS_RECOVER_DB: sim.db } });
    expect(other.code).toBe(7);
    expect(other.stderr).not.toMatch(/in this folder/);
    expect(other.stderr).toContain(sim.db);
    expect((await statusOf(sim, expect, old)).state).toBe('running');
  }, cliLimit(4));
});
