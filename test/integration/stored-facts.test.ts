import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventRows } from '../helpers/event-rows.js';
import { parseJson, runCli } from '../helpers/run-cli.js';
import { resumeWithDisk, startArgs, startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * Never act on a stored fact: the checkpoint says what happened; before the alpha string is
 * given and before the service starts, Kmsdata is compared with the backup again. Tampered at
 * every resting point, the run never reaches credential-set or running on a Kmsdata that differs.
 */

const resume = (sim: SimFixture, extra: string[] = []) => resumeWithDisk(sim, extra);
const firstFile = (sim: SimFixture) => path.join(sim.kmsdata, fs.readdirSync(sim.kmsdata).filter((n) => fs.statSync(path.join(sim.kmsdata, n)).isFile()).sort()[0]!);

/** Every state change's target, in order: where the run has been. */
const statesVisited = (sim: SimFixture) => eventRows(sim.db).filter((e) => e.from_state !== e.to_state).map((e) => e.to_state);

const TAMPERS: [string, (sim: SimFixture) => void][] = [
  ['a file changed', (sim) => fs.appendFileSync(firstFile(sim), 'tampered')],
  ['a file deleted', (sim) => fs.rmSync(firstFile(sim))],
  ['a file added', (sim) => fs.writeFileSync(path.join(sim.kmsdata, 'extra.dat'), 'not from the backup')],
  // Its size and times as they were: only its change time (which no program can set) and its bytes say so.
  ['a file rewritten in place, its size and times put back', (sim) => {
    const file = firstFile(sim);
    const before = fs.statSync(file);
    const fd = fs.openSync(file, 'r+');
    const first = Buffer.alloc(1);
    fs.readSync(fd, first, 0, 1, 0);
    fs.writeSync(fd, Buffer.from([first[0]! ^ 0xff]), 0, 1, 0);
    fs.closeSync(fd);
    fs.utimesSync(file, before.atime, before.mtime);
  }],
];

describe('Kmsdata is checked again before the alpha string and the start', () => {
  for (const at of ['restored', 'credential-set'] as const) {
    for (const [what, tamper] of TAMPERS) {
      it(`killed at ${at}, ${what}: resume clears and restores again, and only then goes on`, async () => {
        const sim = await simFixture();
        const killed = await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: `after-checkpoint:${at}` } });
        expect(killed.signal).toBe('SIGKILL');
        tamper(sim);
        const resumed = await resume(sim);
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(resumed.stderr).toMatch(/differs from the backup .*: clearing and restoring it again/);
        expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
        const events = eventRows(sim.db);
        expect(events.some((e) => e.event === 'drift.kmsdata')).toBe(true);
        // After the drift: back to stopped, then cleared and restored again before credential-set.
        const visited = statesVisited(sim);
        const back = visited.lastIndexOf('stopped');
        expect(visited.slice(back)).toEqual(['stopped', 'cleared', 'restored', 'credential-set', 'running']);
      }, cliLimit(2));
    }
  }

  it('the record says how each check proved it: the files the restore wrote, or every file hashed once one was touched', async () => {
    const sim = await simFixture();
    const killed = await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:restored' } });
    expect(killed.signal).toBe('SIGKILL');
    // Its protection changed and put back: the same bytes, but no longer provably the restore's file.
    const file = firstFile(sim);
    const mode = fs.statSync(file).mode & 0o7777;
    fs.chmodSync(file, 0o600);
    fs.chmodSync(file, mode);
    const resumed = await resume(sim);
    expect(resumed.code, resumed.stderr).toBe(0);
    const checks = eventRows(sim.db).filter((e) => e.event === 'kmsdata.checked').map((e) => e.detail ?? {});
    // A change time moved: the files are no longer provably the restore's, so both checks hash them, and say so.
    expect(checks.map((c) => [c.step, c.by])).toEqual([['setCredential', 'contents'], ['startService', 'contents']]);
    expect(eventRows(sim.db).some((e) => e.event === 'drift.kmsdata')).toBe(false);
    const history = await runCli(['history', '--db', sim.db]);
    expect(history.stdout).toMatch(/Kmsdata checked before alpha string: \d+ files read again, sizes and SHA-256\s+equal to the backup/);
  }, cliLimit(3));

  it('an untouched recovery: both checks proved by the files the restore wrote, and the record says so', async () => {
    const sim = await simFixture();
    expect((await runCli(startWithDiskArgs(sim))).code).toBe(0);
    const checks = eventRows(sim.db).filter((e) => e.event === 'kmsdata.checked').map((e) => e.detail ?? {});
    expect(checks.map((c) => [c.step, c.by])).toEqual([['setCredential', 'identity'], ['startService', 'identity']]);
  }, cliLimit(1));

  it('a file changed while the run waits for a manual credential and start is caught at confirm', async () => {
    const sim = await simFixture();
    const waiting = await runCli(startWithDiskArgs(sim, ['--manual', 'setCredential', '--manual', 'startService']));
    expect(waiting.code).toBe(8);
    const { runId, state } = await statusOf(sim);
    expect(state).toBe('restored');
    fs.appendFileSync(firstFile(sim), 'tampered');
    const confirmed = await runCli(['confirm', runId, 'setCredential', '--db', sim.db]);
    expect(confirmed.code).toBe(8);
    // The tampered Kmsdata was never carried into credential-set: cleared and restored again, the
    // manual step waits once more.
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    expect(statesVisited(sim)).not.toContain('credential-set');
    expect(eventRows(sim.db).some((e) => e.event === 'drift.kmsdata')).toBe(true);
    expect(await statusOf(sim)).toMatchObject({ state: 'restored' });
    const again = await runCli(['confirm', runId, 'setCredential', '--db', sim.db]);
    expect(again.code).toBe(8);
    expect(await statusOf(sim)).toMatchObject({ state: 'credential-set' });
  }, cliLimit(6));

  it('a file written into the emptied Kmsdata before the restore is moved aside and the restore goes on', async () => {
    const sim = await simFixture();
    await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' } });
    fs.writeFileSync(path.join(sim.kmsdata, 'late.dat'), 'written after the clear');
    const resumed = await resume(sim);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(2));

  it('the quarantine ledger: a quarantined file changed before the finish is kept and reported, the rest deleted', async () => {
    const sim = await simFixture();
    await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' } });
    const { runId } = await statusOf(sim);
    const quarantine = path.join(path.dirname(sim.kmsdata), `Kmsdata.quarantine-${runId}`);
    const changed = fs.readdirSync(quarantine).filter((n) => fs.statSync(path.join(quarantine, n)).isFile()).sort()[0]!;
    fs.appendFileSync(path.join(quarantine, changed), 'changed in the quarantine');
    const resumed = await resume(sim);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(fs.readdirSync(quarantine)).toEqual([changed]);
    expect(resumed.stderr).toContain(`left as is: ${path.join(quarantine, changed)}`);
    expect(eventRows(sim.db).find((e) => e.event === 'quarantine.kept')?.detail?.kept).toEqual([path.join(quarantine, changed)]);
  }, cliLimit(3));

  it('a backup whose names Kmsdata cannot hold is refused at the start checks and in --dry-run, before anything changes', async () => {
    const sim = await simFixture();
    fs.writeFileSync(path.join(sim.backup, 'we\\ird.dat'), 'x');
    const before = treeBytes(path.dirname(sim.kmsdata));
    for (const extra of [['--dry-run'], []]) {
      const refused = await runCli(startWithDiskArgs(sim, extra));
      expect(refused.code, refused.stderr).toBe(3);
      expect(refused.stderr).toMatch(/kms-recover: .*we\\\\ird\.dat.*nothing was changed/);
    }
    expect(treeBytes(path.dirname(sim.kmsdata))).toEqual(before);
    expect(fs.existsSync(sim.db)).toBe(false);
  }, cliLimit(2));
});

describe('the alpha string reaches no child', () => {
  for (const source of ['environment', 'startup disk'] as const) {
    it(`from the ${source}: the simulated KMS daemon's environment holds no alpha string`, async () => {
      const sim = await simFixture();
      const args = source === 'environment'
        ? startArgs(sim)
        : startWithDiskArgs(sim);
      const result = await runCli(args, { env: source === 'environment' ? { KMS_ALPHA_STRING: sim.alpha } : {} });
      expect(result.code, result.stderr).toBe(0);
      const { pid } = parseJson<{ pid: number }>(await runCli(['sim', 'status', sim.root, '--json']));
      const environ = fs.readFileSync(`/proc/${pid}/environ`);
      expect(environ.includes(Buffer.from(sim.alpha))).toBe(false);
      expect(environ.toString('latin1').split('\0').filter(Boolean).map((kv) => kv.split('=')[0])).toEqual(['PATH']);
    }, cliLimit(2));
  }
});
