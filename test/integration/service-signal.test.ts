import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../recovery/run-status.js';
import { eventRows } from '../helpers/event-rows.js';
import { CLI, cliEnv, parseJson, printedCommand, runCli, spawnCli } from '../helpers/run-cli.js';
import { resumeWithDisk, startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { until } from '../helpers/wait.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * Every service wait ends at its signal, and a driver that lost its lease touches nothing: real
 * CLI processes on the simulator, whose KMS hangs in stop while `scm/kms-daemon.hang-stop` exists.
 * And one liveness rule: a driver stopped with SIGSTOP is "unresponsive" for status, list,
 * resume and takeover alike.
 */

const hangFile = (sim: SimFixture) => path.join(sim.root, 'scm', 'kms-daemon.hang-stop');
const servicesFile = (sim: SimFixture) => path.join(sim.root, 'scm', 'services.json');
const daemonHangs = (sim: SimFixture) => fs.readFileSync(path.join(sim.root, 'scm', 'MSExchangeKMS.log'), 'utf8').includes('hanging in stop');
const stopStarted = (sim: SimFixture) => fs.existsSync(sim.db) && eventRows(sim.db).some((e) => e.event === 'step.started' && e.detail?.step === 'stopService');
const simStatus = async (sim: SimFixture) => parseJson<{ state: string; pid?: number }>(await runCli(['sim', 'status', sim.root, '--json']));
/** The shortest stale period there is (lease-policy.ts). */
const STALE = { KMS_RECOVER_LEASE_STALE_SECONDS: '10' };

function leaseRow(db: string): { pid: number; host: string; heartbeat_at: string } | undefined {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare('SELECT pid, host, heartbeat_at FROM leases').get() as { pid: number; host: string; heartbeat_at: string } | undefined;
  } finally {
    conn.close();
  }
}

describe('a hanging stop ends at its signal', () => {
  it('start --timeout stopService=2: the attempt ends within 1 s of its limit, not at the simulator\'s 10 s', async () => {
    const sim = await simFixture();
    fs.writeFileSync(hangFile(sim), '');
    const result = await runCli(startWithDiskArgs(sim, ['--timeout', 'stopService=2', '--attempts', 'stopService=1']));
    expect(result.code, result.stderr).toBe(4);
    const status = await statusOf(sim);
    expect(status.lastError).toMatchObject({ code: 'STEP_TIMEOUT' });
    const events = eventRows(sim.db);
    const began = events.find((e) => e.event === 'step.started' && e.detail?.step === 'stopService')!;
    const ended = events.find((e) => e.event === 'xstate.error.actor.stopService')!;
    const tookMs = Date.parse(ended.at) - Date.parse(began.at);
    expect(tookMs).toBeGreaterThanOrEqual(2000);
    expect(tookMs, 'the attempt ends within 1 s of its time limit').toBeLessThan(3000);
    fs.rmSync(hangFile(sim));
  }, cliLimit(2));

  it('Ctrl-C during a hanging stop ends the run within 1 s, resumable', async () => {
    const sim = await simFixture();
    fs.writeFileSync(hangFile(sim), '');
    const run = spawnCli(startWithDiskArgs(sim));
    await until('the stop to hang', () => stopStarted(sim) && daemonHangs(sim));
    const sent = Date.now();
    run.child.kill('SIGINT');
    const result = await run.done;
    const tookMs = Date.now() - sent;
    expect(result.code, result.stderr).toBe(130);
    expect(tookMs, 'Ctrl-C ends the hanging wait within 1 s').toBeLessThan(1000);
    fs.rmSync(hangFile(sim));
    const resumed = await resumeWithDisk(sim);
    expect(resumed.code, resumed.stderr).toBe(0);
  }, cliLimit(2));
});

describe('a driver that lost its lease, and the one liveness rule', () => {
  it('a driver paused (SIGSTOP) in a hanging stop is unresponsive to every command; taken over, then woken (SIGCONT), it writes nothing and leaves the recovered KMS alone', async () => {
    const sim = await simFixture();
    fs.writeFileSync(hangFile(sim), '');
    const old = spawnCli(startWithDiskArgs(sim), { env: STALE });
    await until('the stop to hang', () => stopStarted(sim) && daemonHangs(sim));
    process.kill(old.child.pid!, 'SIGSTOP');
    try {
      const paused = leaseRow(sim.db)!;
      expect(paused.pid).toBe(old.child.pid);
      await new Promise((r) => setTimeout(r, Date.parse(paused.heartbeat_at) + 10_000 + 500 - Date.now()));

      // status, list, resume and takeover say the same: alive, but unresponsive.
      const status = parseJson<RunStatus>(await runCli(['status', '--json', '--db', sim.db], { env: STALE }));
      expect(status.situation).toBe('unresponsive');
      expect(status.driver).toMatchObject({ kind: 'silent', liveness: 'unresponsive', pid: old.child.pid });
      expect(status.next).toContain(printedCommand(`kms-recover takeover ${status.runId}`, sim.db));
      const text = await runCli(['status', '--db', sim.db], { env: STALE });
      expect(text.stdout).not.toMatch(/no process is running it|nothing is lost/);
      expect(text.stdout).toMatch(/alive but unresponsive/);
      const list = parseJson<{ stale: boolean; driver: string }[]>(await runCli(['list', '--json', '--db', sim.db], { env: STALE }));
      expect(list[0]).toMatchObject({ stale: true, driver: expect.stringMatching(/no heartbeat for \d+ s/) });
      const locked = await resumeWithDisk(sim, [], { env: STALE });
      expect(locked.code).toBe(5);
      expect(locked.stderr).toMatch(/alive but unresponsive.*kms-recover takeover/);

      const takeover = await runCli(['takeover', status.runId, '--yes', '--db', sim.db], { env: STALE });
      expect(takeover.code, takeover.stderr).toBe(0);
      const history = await runCli(['history', status.runId, '--db', sim.db]);
      expect(history.stdout).toMatch(/took the run over from pid \d+ on \S+, which was unresponsive/);
      expect(history.stdout).not.toMatch(/which had died/);

      // The KMS stops once it may; the new driver finishes the recovery.
      fs.rmSync(hangFile(sim));
      const finished = await resumeWithDisk(sim, [status.runId], { env: STALE });
      expect(finished.code, finished.stderr).toBe(0);
      const recovered = await simStatus(sim);
      expect(recovered.state).toBe('running');
      const services = fs.readFileSync(servicesFile(sim), 'utf8');
      const kmsdata = treeBytes(sim.kmsdata);

      process.kill(old.child.pid!, 'SIGCONT');
      const woken = await old.done;
      expect(woken.code, woken.stderr).toBe(5);
      expect(`${woken.stdout}${woken.stderr}`).toMatch(/LEASE_LOST|was taken over/);
      expect(fs.readFileSync(servicesFile(sim), 'utf8'), 'the woken driver did not write services.json').toBe(services);
      expect(await simStatus(sim)).toMatchObject({ state: 'running', pid: recovered.pid });
      expect(treeBytes(sim.kmsdata)).toEqual(kmsdata);
    } finally {
      try { process.kill(old.child.pid!, 'SIGCONT'); } catch { /* gone */ }
    }
  }, cliLimit(10));

  const canUnshare = spawnSync('unshare', ['-u', 'true']).status === 0;

  it.skipIf(!canUnshare)('a live driver on another host whose clock is 2 h behind: takeover --yes sees its heartbeat move and refuses', async () => {
    const sim = await simFixture();
    fs.writeFileSync(hangFile(sim), '');
    const command = `hostname kms-other && exec "${process.execPath}" "${CLI}" ${startWithDiskArgs(sim).map((a) => `"${a}"`).join(' ')}`;
    const other: ChildProcess = spawn('unshare', ['-u', 'sh', '-c', command], { env: cliEnv(STALE), stdio: 'ignore' });
    try {
      await until('the stop to hang', () => stopStarted(sim) && daemonHangs(sim));
      // Its heartbeats are written 2 h in the past, as by a clock 2 h behind this machine's.
      const conn = new Database(sim.db);
      conn.exec(`CREATE TRIGGER skewed_clock AFTER UPDATE OF heartbeat_at ON leases BEGIN
        UPDATE leases SET heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ', NEW.heartbeat_at, '-2 hours') WHERE run_id = NEW.run_id; END`);
      conn.close();
      await until('a heartbeat 2 h old', () => Date.now() - Date.parse(leaseRow(sim.db)!.heartbeat_at) > 3600_000, { timeoutMs: 10_000 });
      const { runId, driver } = parseJson<RunStatus>(await runCli(['status', '--json', '--db', sim.db], { env: STALE }));
      expect(driver).toMatchObject({ host: 'kms-other', liveness: 'unresponsive' });

      const takeover = await runCli(['takeover', runId, '--yes', '--db', sim.db], { env: STALE });
      expect(takeover.code, takeover.stdout).toBe(5);
      expect(takeover.stderr).toMatch(/heartbeat still moves/);
      expect(eventRows(sim.db).map((e) => e.event)).not.toContain('lease.taken-over');
      expect(leaseRow(sim.db)?.host).toBe('kms-other');
    } finally {
      other.kill('SIGKILL');
      fs.rmSync(hangFile(sim), { force: true });
    }
  }, cliLimit(2, { waitMs: 5_000 }));
});
