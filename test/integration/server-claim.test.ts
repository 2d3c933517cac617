import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventRows } from '../helpers/event-rows.js';
import { parseJson, printedCommand, runCli } from '../helpers/run-cli.js';
import { claimFile, exchsrvrEntries, expectRefusedByClaim, expectServerRecovered } from '../helpers/server-claim.js';
import { resumeWithDisk, runIdOf, startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * The server, not the run, is the unit of safety: a claim beside Kmsdata, seen by every start
 * whatever its database, and at most one open run per server in a database. Real processes.
 * (Two starts at once: server-claim-race.test.ts.)
 */

const startArgs = (sim: SimFixture, db = sim.db) => startWithDiskArgs(sim, [], db);
const start = (sim: SimFixture, db = sim.db, env: Record<string, string> = {}) => runCli(startArgs(sim, db), { env });
const resume = (sim: SimFixture, args: string[] = [], db = sim.db) => resumeWithDisk(sim, args, {}, db);
const expectRecovered = expectServerRecovered;

/** A snapshot of everything a refused command must not change. */
function serverPicture(sim: SimFixture, dbs: string[]) {
  return {
    exchsrvr: exchsrvrEntries(sim),
    kmsdata: treeBytes(sim.kmsdata),
    claim: fs.existsSync(claimFile(sim)) ? fs.readFileSync(claimFile(sim), 'utf8') : null,
    events: dbs.map((db) => (fs.existsSync(db) ? eventRows(db).length : null)),
  };
}


describe('one server, one recovery', () => {
  it('after a killed run, start is refused (same database, another one, a deleted one) and changes nothing; resume then finishes', async () => {
    const sim = await simFixture();
    const killed = await start(sim, sim.db, { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' });
    expect(killed.signal).toBe('SIGKILL');
    const runId = await runIdOf(sim);
    const other = path.join(sim.dir, 'other.db');
    const before = serverPicture(sim, [sim.db, other]);

    const same = await start(sim);
    expectRefusedByClaim(same, runId);
    expect(same.stderr).toContain(printedCommand(`kms-recover resume ${runId}`, sim.db));
    expect(same.stderr).toContain('cleared');

    const elsewhere = await start(sim, other);
    expectRefusedByClaim(elsewhere, runId);
    expect(elsewhere.stderr).toContain(`database ${sim.db}`);
    expect(elsewhere.stderr).toContain(`kms-recover resume ${runId} --db ${sim.db}`);
    expect(serverPicture(sim, [sim.db, other])).toEqual(before);
    expect(fs.existsSync(other)).toBe(false);

    const finished = await resume(sim);
    expect(finished.code, finished.stderr).toBe(0);
    await expectRecovered(sim);
    expect(fs.existsSync(claimFile(sim))).toBe(false);
  }, cliLimit(5));

  it('a start after the run\'s database was lost is refused; abandon --kmsdata releases the claim, and a new run finishes', async () => {
    const sim = await simFixture();
    await start(sim, sim.db, { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' });
    const runId = await runIdOf(sim);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${sim.db}${suffix}`, { force: true });
    const before = serverPicture(sim, []);

    const refused = await start(sim);
    expectRefusedByClaim(refused, runId);
    expect(refused.stderr).toContain('is gone');
    expect(refused.stderr).toContain(printedCommand(`kms-recover abandon ${runId} --kmsdata ${sim.kmsdata}`, sim.db));
    expect(serverPicture(sim, [])).toEqual(before);
    expect(fs.existsSync(sim.db)).toBe(false);

    const released = await runCli(['abandon', runId, '--kmsdata', sim.kmsdata, '--yes', '--db', sim.db]);
    expect(released.code, released.stderr).toBe(0);
    expect(fs.existsSync(claimFile(sim))).toBe(false);

    const fresh = await start(sim);
    expect(fresh.code, fresh.stderr).toBe(0);
    // The lost run's quarantine belongs to no run this database knows: kept and said, never deleted on a guess.
    expect(fresh.stderr).toContain(`Kmsdata.quarantine-${runId}`);
    expect(fresh.stderr).toMatch(/left as is/);
    expect(exchsrvrEntries(sim)).toEqual(['Kmsdata', `Kmsdata.quarantine-${runId}`, 'kms-recover.recovered']);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
  }, cliLimit(5));

  for (const [state, failAt] of [
    ['reinstalled', 'after-checkpoint:reinstalled'],
    ['stopped', 'after-checkpoint:stopped'],
    ['cleared', 'after-checkpoint:cleared'],
    ['cleared (mid-restore)', 'restore-after-file:2'],
    ['restored', 'after-checkpoint:restored'],
    ['credential-set', 'after-checkpoint:credential-set'],
  ] as const) {
    it(`abandon at ${state}, then start: the new run ends running and no folder is orphaned`, async () => {
      const sim = await simFixture();
      await start(sim, sim.db, { KMS_RECOVER_FAIL_AT: failAt });
      const runId = await runIdOf(sim);

      const abandoned = await runCli(['abandon', runId, '--yes', '--reason', 'test', '--json', '--db', sim.db]);
      expect(abandoned.code, abandoned.stderr).toBe(0);
      const report = parseJson<{ phase: string; claimReleased: boolean; condition: { service: string; kmsdata: { holds: string } } }>(abandoned);
      expect(report).toMatchObject({ phase: 'abandoned', claimReleased: true });
      expect(['empty', 'partial', 'restored']).toContain(report.condition.kmsdata.holds);
      expect(fs.existsSync(claimFile(sim))).toBe(false);
      expect(eventRows(sim.db).filter((e) => e.event === 'run.abandoned')).toHaveLength(1);

      const again = await resume(sim, [runId]);
      expect(again.code).toBe(7);
      expect(again.stderr).toMatch(/was abandoned/);

      const fresh = await start(sim);
      expect(fresh.code, fresh.stderr).toBe(0);
      await expectRecovered(sim);
      const status = await statusOf(sim);
      expect(status).toMatchObject({ state: 'running', finishPending: false });
      expect(status.closedAt).not.toBeNull();
    }, cliLimit(6));
  }

  it('a kill right after the running checkpoint: status says the finish is pending and how to complete it; resume completes it', async () => {
    const sim = await simFixture();
    const killed = await start(sim, sim.db, { KMS_RECOVER_FAIL_AT: 'after-checkpoint:running' });
    expect(killed.signal).toBe('SIGKILL');
    const runId = await runIdOf(sim);
    const status = await statusOf(sim);
    expect(status).toMatchObject({ done: true, finishPending: true });
    expect(status.next).toContain(printedCommand(`kms-recover resume ${runId}`, sim.db));
    const text = await runCli(['status', '--db', sim.db]);
    expect(text.stdout).not.toMatch(/Next: nothing/);
    expect(text.stdout).toMatch(/clean-up .* was cut off/);

    const completed = await runCli(['resume', '--db', sim.db]);
    expect(completed.code, completed.stderr).toBe(0);
    expect(completed.stdout).toMatch(/its interrupted finish is now complete/);
    await expectRecovered(sim);
    expect(eventRows(sim.db).map((e) => e.event)).toContain('run.finished');
    expect((await runCli(['resume', '--db', sim.db])).code).toBe(7);
  }, cliLimit(6));

  it('resume --timeout/--attempts changes the run\'s policy, recorded as an event', async () => {
    const sim = await simFixture();
    const waiting = await runCli([...startArgs(sim), '--manual', 'stop']);
    expect(waiting.code).toBe(8);
    const runId = await runIdOf(sim);
    const changed = await resume(sim, [runId, '--timeout', 'stopService=2.5', '--attempts', 'clearKmsdata=4']);
    expect(changed.code).toBe(8); // still waiting for the operator's stop
    const event = eventRows(sim.db).find((e) => e.event === 'policy.changed');
    expect(event?.detail?.after).toEqual({ stopService: { timeoutMs: 2500 }, clearKmsdata: { attempts: 4 } });
    const bad = await resume(sim, [runId, '--timeout', 'stopService=0.5']);
    expect(bad.code).toBe(2);
    expect(eventRows(sim.db).filter((e) => e.event === 'policy.changed')).toHaveLength(1);
  }, cliLimit(4));
});
