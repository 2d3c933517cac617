import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../recovery/run-status.js';
import { eventRows } from '../helpers/event-rows.js';
import { parseJson, printedCommand, runCli, spawnCli } from '../helpers/run-cli.js';
import { claimFile, recoveryRecord } from '../helpers/server-claim.js';
import { resumeWithDisk, runIdOf, serviceState, startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { until } from '../helpers/wait.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * The claim rules, with real processes on the simulator: before every change the driver reads
 * the server's claim again; a claim that is gone or names another run stops it (CLAIM_LOST,
 * exit 5) before it touches the server. A finished recovery leaves its record beside Kmsdata, and
 * a stale run that finds it never stops the KMS another run recovered.
 */

const daemonPid = async (sim: SimFixture): Promise<number> =>
  parseJson<{ pid: number }>(await runCli(['sim', 'status', sim.root, '--json'])).pid;

const lastErrorLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('kms-recover:')).at(-1) ?? '';

describe('the claim rules', () => {
  it('a killed run whose claim was deleted, the server then recovered from another database: its resume exits non-zero and the recovered KMS keeps running', async () => {
    const sim = await simFixture();
    const killed = await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:stopped' } });
    expect(killed.signal).toBe('SIGKILL');
    const stale = await runIdOf(sim);
    fs.rmSync(claimFile(sim)); // an administrator tidying up

    const other = path.join(sim.dir, 'other.db');
    const second = await runCli(startWithDiskArgs(sim, [], other));
    expect(second.code, second.stderr).toBe(0);
    const recoveredBy = await runIdOf(sim, other);
    expect(recoveryRecord(sim)).toMatchObject({ runId: recoveredBy, db: other, kmsdata: sim.kmsdata });
    const pid = await daemonPid(sim);
    const kmsdata = treeBytes(sim.kmsdata);
    const services = fs.readFileSync(path.join(sim.root, 'scm', 'services.json'), 'utf8');

    // Its status says so before anything is tried, and names abandon.
    const before = await statusOf(sim);
    expect(before.server).toMatchObject({ claim: 'missing', recoveredBy: { runId: recoveredBy, db: other } });
    expect(before.next).toContain(printedCommand(`kms-recover abandon ${stale}`, sim.db));
    expect(before.next).not.toContain('kms-recover resume');

    const resumed = await resumeWithDisk(sim, [stale]);
    expect(resumed.code, resumed.stderr).toBe(5);
    expect(lastErrorLine(resumed.stderr)).toContain(`recovered by run ${recoveredBy}`);
    expect(lastErrorLine(resumed.stderr)).toContain(printedCommand(`kms-recover abandon ${stale}`, sim.db));
    expect(resumed.stderr).not.toMatch(/stopping it|was running again/);
    expect(await serviceState(sim)).toBe('running');
    expect(await daemonPid(sim)).toBe(pid);
    expect(treeBytes(sim.kmsdata)).toEqual(kmsdata);
    expect(fs.readFileSync(path.join(sim.root, 'scm', 'services.json'), 'utf8')).toBe(services);
    expect(fs.existsSync(claimFile(sim)), 'the stale run did not claim the server again').toBe(false);
    expect(eventRows(sim.db).map((e) => e.event)).toContain('claim.lost');

    const text = await runCli(['status', '--db', sim.db]);
    expect(text.stdout).toContain(`recovered by run ${recoveredBy}`);
    expect(text.stdout).toContain(printedCommand(`kms-recover abandon ${stale}`, sim.db));

    const abandoned = await runCli(['abandon', stale, '--yes', '--db', sim.db]);
    expect(abandoned.code, abandoned.stderr).toBe(0);
    expect(await daemonPid(sim)).toBe(pid);
  }, cliLimit(12));

  it('the claim deleted while a run is live: its next change stops with CLAIM_LOST, nothing touched; resume claims the server again and finishes', async () => {
    const sim = await simFixture(['--extra-files', '20']);
    const run = spawnCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_DELAY_AT: 'restore-after-file:3:1500' } });
    await until('the restore to start', () => fs.existsSync(sim.db) && eventRows(sim.db).some((e) => e.event === 'step.started' && e.detail?.step === 'restoreKmsdata'));
    fs.rmSync(claimFile(sim));
    const result = await run.done;
    expect(result.code, result.stderr).toBe(5);
    expect(result.stdout).toMatch(/stopped at cleared: (KB step 4 failed: )?the server's claim is gone or is another run's \(CLAIM_LOST\): run \w+ stopped before restoreKmsdata \(KB step 4\) without touching the server: the server's claim .* is gone/);
    const status = await statusOf(sim);
    expect(status.lastError).toMatchObject({ code: 'CLAIM_LOST' });
    expect(status.state).toBe('cleared');
    // Nothing promoted, nothing started: Kmsdata is as the clear left it, the service stopped.
    expect(fs.readdirSync(sim.kmsdata)).toEqual([]);
    expect(await serviceState(sim)).toBe('stopped');

    const resumed = await resumeWithDisk(sim);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(eventRows(sim.db).map((e) => e.event)).toContain('claim.renewed');
    expect(await serviceState(sim)).toBe('running');
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(5));

  it('the claim replaced by another run\'s while a run is live: it stops with CLAIM_LOST naming that run, and its resume does not touch the server', async () => {
    const sim = await simFixture(['--extra-files', '20']);
    const run = spawnCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_DELAY_AT: 'restore-after-file:3:1500' } });
    await until('the restore to start', () => fs.existsSync(sim.db) && eventRows(sim.db).some((e) => e.event === 'step.started' && e.detail?.step === 'restoreKmsdata'));
    const foreign = { runId: 'feedf00d', db: path.join(sim.dir, 'elsewhere.db'), host: 'kms02', pid: 1, processStart: null, claimedAt: new Date().toISOString(), kmsdata: sim.kmsdata };
    fs.writeFileSync(`${claimFile(sim)}.new`, JSON.stringify(foreign));
    fs.renameSync(`${claimFile(sim)}.new`, claimFile(sim));
    const result = await run.done;
    expect(result.code, result.stderr).toBe(5);
    expect(result.stdout).toContain('the server is now claimed by run feedf00d');
    expect(fs.readdirSync(sim.kmsdata)).toEqual([]);

    const resumed = await resumeWithDisk(sim);
    expect(resumed.code, resumed.stderr).toBe(5);
    expect(lastErrorLine(resumed.stderr)).toContain('claimed by run feedf00d');
    expect(fs.readdirSync(sim.kmsdata)).toEqual([]);
    expect(await serviceState(sim)).toBe('stopped');
    const status = parseJson<RunStatus>(await runCli(['status', '--json', '--db', sim.db]));
    expect(status.server).toMatchObject({ claim: 'other', claimedBy: { runId: 'feedf00d' } });
    expect(status.next).toContain('kms-recover abandon');
  }, cliLimit(4));
});
