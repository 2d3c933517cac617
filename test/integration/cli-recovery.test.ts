import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SIX_STATES } from '../helpers/event-log.js';
import { parseJson, runCli } from '../helpers/run-cli.js';
import { serviceState, startArgs, statusOf, wrongAlpha } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, filesContaining, secretFiles, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { RECOVERED_EXCHSRVR } from '../helpers/server-claim.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

function start(sim: SimFixture, extra: string[] = [], env: Record<string, string> = {}) {
  return runCli(startArgs(sim, extra), { env });
}

describe('kms-recover on the simulator', () => {
  it('recovers end to end: running, Kmsdata byte-identical to the backup, the six states in order', async () => {
    const sim = await simFixture();
    const backupBefore = treeBytes(sim.backup);
    expect(treeBytes(sim.kmsdata)).not.toEqual(backupBefore); // the reinstall's data

    const result = await start(sim, ['--startup-disk', sim.startupDisk]);
    expect(result.stderr).toContain('[5/5] running');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/is running: recovery complete/);

    expect(treeBytes(sim.kmsdata)).toEqual(backupBefore);
    expect(treeBytes(sim.backup)).toEqual(backupBefore);
    // The reinstall's files were kept aside until the KMS ran, then deleted; no staging is left.
    expect(fs.readdirSync(path.dirname(sim.kmsdata)).sort()).toEqual(RECOVERED_EXCHSRVR);
    const status = await statusOf(sim);
    expect(status).toMatchObject({ state: 'running', phase: 'done', done: true, lastError: null });
    expect(status.history.map((h) => h.to)).toEqual(SIX_STATES);
    expect(status.history.map((h) => h.from)).toEqual([null, ...SIX_STATES.slice(0, -1)]);
    expect(await serviceState(sim)).toBe('running');

    expect(fs.existsSync(sim.log)).toBe(true);
    expect(filesContaining(secretFiles(sim), sim.alpha)).toEqual([]);
  }, cliLimit(2));

  it('stops short on a wrong alpha string, loses nothing, and resume with the right one finishes', async () => {
    const sim = await simFixture();
    const wrong = wrongAlpha(sim);
    const first = await start(sim, [], { KMS_ALPHA_STRING: wrong });
    expect(first.code).toBe(4);
    expect(first.stderr).toMatch(/ALPHA_REJECTED/);
    expect(first.stdout).toMatch(/alpha string does not match/);

    const stuck = await statusOf(sim);
    expect(stuck).toMatchObject({ state: 'restored', phase: 'failed', done: false });
    expect(stuck.lastError?.code).toBe('ALPHA_REJECTED');
    expect(stuck.next).toMatch(/startup disk/);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup)); // the restore stands
    const quarantine = fs.readdirSync(path.dirname(sim.kmsdata)).filter((n) => n.startsWith('Kmsdata.quarantine-'));
    expect(quarantine).toHaveLength(1); // the reinstall's files are kept while the run is unfinished
    expect(filesContaining(secretFiles(sim), wrong)).toEqual([]);

    const second = await runCli(['resume', '--startup-disk', sim.startupDisk, '--db', sim.db]);
    expect(second.stderr).toContain('[5/5] running');
    expect(second.code).toBe(0);
    const done = await statusOf(sim);
    expect(done.state).toBe('running');
    expect(done.history.map((h) => h.to)).toEqual([...SIX_STATES.slice(0, 4), 'credential-set', 'restored', 'credential-set', 'running']);
    expect(filesContaining(secretFiles(sim), sim.alpha)).toEqual([]);
  }, cliLimit(4));

  it('resumes after the process was killed between steps', async () => {
    const sim = await simFixture();
    const killed = await start(sim, ['--startup-disk', sim.startupDisk], { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' });
    expect(killed.signal).toBe('SIGKILL');
    const interrupted = await statusOf(sim);
    expect(interrupted).toMatchObject({ state: 'cleared', phase: 'working', done: false });
    expect(fs.readdirSync(sim.kmsdata)).toEqual([]);

    const resumed = await runCli(['resume', '--db', sim.db], { env: { KMS_ALPHA_STRING: sim.alpha } });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/took the run over from pid \d+/);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    const status = await statusOf(sim);
    expect(status.history.map((h) => h.to)).toEqual(SIX_STATES);
    expect(filesContaining(secretFiles(sim), sim.alpha)).toEqual([]);
  }, cliLimit(4));

  it('the demo recovers a fresh simulated server and its database shows the six states', async () => {
    const sim = await simFixture(); // only for its temporary folder and cleanup
    const demoRoot = path.join(sim.dir, 'demo');
    const result = await runCli(['demo', '--dir', demoRoot, '--db', sim.db]);
    await runCli(['sim', 'stop', demoRoot]);
    expect(result.code).toBe(0);
    const lines = result.stderr.split('\n').filter((l) => /^\[\d\/5\]/.test(l));
    expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(SIX_STATES);
    const status = await statusOf(sim);
    expect(status.history.map((h) => h.to)).toEqual(SIX_STATES);
  }, cliLimit(3));
});

describe('refused before anything changes', () => {
  async function expectRefused(sim: SimFixture, args: string[], message: RegExp, env: Record<string, string> = {}) {
    const before = treeBytes(sim.kmsdata);
    const result = await runCli(['start', '--kmsdata', sim.kmsdata, '--db', sim.db, ...args], { env });
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(treeBytes(sim.kmsdata)).toEqual(before);
    expect(await serviceState(sim)).toBe('running');
    // No run was written: the refusal did not even create the database, and list says so.
    for (const file of [sim.db, `${sim.db}-wal`, `${sim.db}-shm`]) expect(fs.existsSync(file), file).toBe(false);
    const list = await runCli(['list', '--json', '--db', sim.db]);
    expect(list.code, list.stderr).toBe(7);
    expect(parseJson<{ error: { code: string } }>(list).error.code).toBe('RUN_NOT_FOUND');
  }

  it('a missing backup', async () => {
    const sim = await simFixture();
    await expectRefused(sim, ['--backup', path.join(sim.dir, 'nope'), '--startup-disk', sim.startupDisk], /nope/);
  }, cliLimit(2));

  it('an empty backup', async () => {
    const sim = await simFixture();
    const empty = path.join(sim.dir, 'empty-backup');
    fs.mkdirSync(empty);
    await expectRefused(sim, ['--backup', empty, '--startup-disk', sim.startupDisk], /empty/);
  }, cliLimit(2));

  it('a Kmspwd.ini without [config]', async () => {
    const sim = await simFixture();
    const bad = path.join(sim.dir, 'Kmspwd.ini');
    fs.writeFileSync(bad, `pwd=${sim.alpha}\r\n`);
    await expectRefused(sim, ['--backup', sim.backup, '--startup-disk', bad], /\[config\]/);
  }, cliLimit(2));

  it('a Kmspwd.ini whose password has the wrong length, without printing it', async () => {
    const sim = await simFixture();
    const bad = path.join(sim.dir, 'Kmspwd.ini');
    fs.writeFileSync(bad, '[config]\r\npwd=SHORTPASS\r\n');
    await expectRefused(sim, ['--backup', sim.backup, '--startup-disk', bad], /9 characters/);
  }, cliLimit(2));

  it('no alpha string at all (no disk, no variable, no terminal)', async () => {
    const sim = await simFixture();
    await expectRefused(sim, ['--backup', sim.backup], /no alpha string/);
  }, cliLimit(2));

  it('a Kmsdata path that is not a Kmsdata folder', async () => {
    const sim = await simFixture();
    const result = await runCli(['start', '--kmsdata', sim.backup.replace(/Kmsdata$/, ''), '--backup', sim.backup,
      '--sim-root', sim.root, '--startup-disk', sim.startupDisk, '--db', sim.db]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/not a Kmsdata folder/);
  }, cliLimit(1));
});
