import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { eventRows } from '../helpers/event-rows.js';
import { CLI, parseJson, runCli } from '../helpers/run-cli.js';
import { resumeWithDisk, startWithDiskArgs, statusOf } from '../helpers/sim-cli.js';
import { holdAt } from '../helpers/hold.js';
import { cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * Fencing, with real processes. A driver on "another host" (its own UTS namespace and host name,
 * as root: `unshare -u`) is paused with SIGSTOP mid-restore, as a sleeping laptop would be; the
 * run is taken over and finished; when the old driver wakes up it must stop with LEASE_LOST and
 * touch nothing: the event log and the files' timestamps prove it.
 */

const canUnshare = spawnSync('unshare', ['-u', 'true']).status === 0;
/** The shortest stale period there is (lease-policy.ts): a silent holder is presumed alive this long. */
const STALE_SECONDS = 10;
const STALE = { KMS_RECOVER_LEASE_STALE_SECONDS: String(STALE_SECONDS) };

function exited(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Every path under a folder with its modification time and bytes: a changed write shows here. */
function stamps(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const full = path.join(dir, rel);
    const stat = fs.statSync(full);
    out[rel || '.'] = `${stat.mtimeMs}:${stat.ino}`;
    if (stat.isDirectory()) for (const name of fs.readdirSync(full)) walk(path.join(rel, name));
  };
  walk('');
  return out;
}

function leaseRow(db: string): { pid: number; host: string; generation: number; heartbeat_at: string } | undefined {
  const conn = new Database(db);
  try {
    return conn.prepare('SELECT pid, host, generation, heartbeat_at FROM leases').get() as { pid: number; host: string; generation: number; heartbeat_at: string } | undefined;
  } finally {
    conn.close();
  }
}

/** An unrelated live process (its caller kills it) whose pid the run's lease now names. */
function pidReused(sim: SimFixture): ChildProcess {
  const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
  const conn = new Database(sim.db);
  conn.prepare('UPDATE leases SET pid = ?').run(unrelated.pid);
  conn.close();
  return unrelated;
}

describe('fencing', () => {
  it.skipIf(!canUnshare)('a paused driver on another host, taken over, wakes up to LEASE_LOST and changes nothing', async () => {
    const sim: SimFixture = await simFixture(['--extra-files', '40']);
    // Mid-restore: the driver is held after its third file until the test lets it go.
    const hold = holdAt(sim, 'restore-after-file:3');
    const env: NodeJS.ProcessEnv = { ...process.env, ...STALE, ...hold.env };
    delete env.KMS_ALPHA_STRING;
    const command = `hostname paused-laptop && exec "${process.execPath}" "${CLI}" start --kmsdata "${sim.kmsdata}" --backup "${sim.backup}" --db "${sim.db}" --startup-disk "${sim.startupDisk}"`;
    const old = spawn('unshare', ['-u', 'sh', '-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const oldExit = exited(old);
    expect(await hold.reached()).toBe(old.pid);
    process.kill(old.pid!, 'SIGSTOP');
    const paused = leaseRow(sim.db)!;
    expect(paused.host).toBe('paused-laptop');

    // Its heartbeat goes silent: stopped, it writes no more. Once the stale period has passed
    // since its last beat, status calls it silent, and the operator takes over and finishes.
    await new Promise((r) => setTimeout(r, Date.parse(paused.heartbeat_at) + STALE_SECONDS * 1000 + 250 - Date.now()));
    expect(leaseRow(sim.db)?.heartbeat_at, 'no heartbeat while paused').toBe(paused.heartbeat_at);
    const silent = await runCli(['status', '--json', '--db', sim.db], { env: STALE });
    expect(parseJson<{ driver: { kind: string; host: string } }>(silent).driver).toMatchObject({ kind: 'silent', host: 'paused-laptop' });
    const runId = parseJson<{ runId: string }>(silent).runId;
    const takeover = await runCli(['takeover', runId, '--yes', '--db', sim.db], { env: STALE });
    expect(takeover.code, takeover.stderr).toBe(0);
    const finished = await resumeWithDisk(sim, [runId], { env: STALE });
    expect(finished.code, finished.stderr).toBe(0);
    expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    const service = parseJson<{ state: string; pid: number }>(await runCli(['sim', 'status', sim.root, '--json']));
    expect(service.state).toBe('running');

    const eventsBefore = eventRows(sim.db);
    const exchsrvr = path.dirname(sim.kmsdata);
    const filesBefore = stamps(exchsrvr);

    // It wakes up where it was held, and goes on.
    hold.release();
    process.kill(old.pid!, 'SIGCONT');
    const result = await oldExit;
    expect(result.code, result.stderr).toBe(5);
    expect(`${result.stdout}${result.stderr}`).toMatch(/LEASE_LOST|was taken over/);

    expect(eventRows(sim.db)).toEqual(eventsBefore);
    expect(stamps(exchsrvr)).toEqual(filesBefore);
    const after = parseJson<{ state: string; pid: number }>(await runCli(['sim', 'status', sim.root, '--json']));
    expect(after).toMatchObject({ state: 'running', pid: service.pid });
    const status = await statusOf(sim);
    expect(status).toMatchObject({ state: 'running', phase: 'done', lastError: null });
  }, cliLimit(7, { waitMs: STALE_SECONDS * 1000 })); // the paused driver, status twice, takeover, resume, sim status twice; and the stale period

  it('a dead driver whose pid now belongs to an unrelated process: resume and takeover treat it as dead', async () => {
    const sim = await simFixture();
    const killed = await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:cleared' } });
    expect(killed.signal).toBe('SIGKILL');
    // The pid the dead driver had is handed to another program: the lease now names a live pid,
    // but its recorded process start time is the dead driver's.
    const unrelated = pidReused(sim);
    try {
      const { runId } = await statusOf(sim);

      const takeover = await runCli(['takeover', runId, '--db', sim.db]);
      expect(takeover.code, takeover.stderr).toBe(0);
      expect(takeover.stdout).toContain(`from pid ${unrelated.pid}`);

      const resumed = await resumeWithDisk(sim, [runId]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(treeBytes(sim.kmsdata)).toEqual(treeBytes(sim.backup));
    } finally {
      unrelated.kill('SIGKILL');
    }
  }, cliLimit(4));

  it('a dead driver whose pid is reused: plain resume takes the run over by itself', async () => {
    const sim = await simFixture();
    await runCli(startWithDiskArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:restored' } });
    const unrelated = pidReused(sim);
    try {
      const resumed = await resumeWithDisk(sim);
      expect(resumed.code, resumed.stderr).toBe(0);
      const takenOver = eventRows(sim.db).find((e) => e.event === 'lease.taken-over');
      expect(takenOver?.detail?.fromPid).toBe(unrelated.pid);
      expect(leaseRow(sim.db)).toBeUndefined();
    } finally {
      unrelated.kill('SIGKILL');
    }
  }, cliLimit(2));
});
