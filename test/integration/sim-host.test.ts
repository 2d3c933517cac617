import { fsKmsdataOperations } from '../../host/fs/index.js';
import { existsSync, promises as fsp, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  alphaMatches, assertSimRoot, createSimHost, initSimHost, parseKmsCheck, readServicesFile, rebootSimHost,
  SimServiceManager, simPaths, type SimInitResult,
} from '../../host/sim/index.js';
import { copyTree } from '../../host/sim/sim-init.js';
import { findDaemonPids } from '../../host/sim/sim-proc.js';
import {
  KMS_SERVICE_NAME, type ClearReport, type KmsdataOperations, type Manifest, type RestoreReport,
} from '../../host/types.js';
import { rejection } from '../helpers/rejection.js';
import { cliLimit } from '../helpers/time-limit.js';
import { until } from '../helpers/wait.js';

const DISK = /^\[config\]\r\npwd=([A-Z0-9]{14})\r\n$/;

/**
 * Alive and a simulator daemon of `kmsdata` (a killed child can linger as a zombie, with an empty
 * cmdline; a pid that is gone is soon another process's, another test's daemon included).
 */
function isDaemonOf(kmsdata: string, pid: number): boolean {
  try {
    process.kill(pid, 0);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((part) => part.includes('kms-daemon')) && argv[argv.indexOf('--kmsdata') + 1] === kmsdata;
  } catch {
    return false;
  }
}

async function readAlpha(file: string): Promise<string> {
  const match = DISK.exec(await fsp.readFile(file, 'utf8'));
  if (!match?.[1]) throw new Error(`bad startup disk ${file}`);
  return match[1];
}


/** Swap the live Kmsdata for the administrator's backup, by hand (the service must be stopped). */
async function putBackBackup(sim: SimInitResult): Promise<void> {
  await fsp.rm(sim.kmsdata, { recursive: true, force: true });
  await copyTree(sim.backup, sim.kmsdata);
}

// Each test starts the simulated KMS daemon (a node process, as costly as a CLI one) up to 5 times.
describe('process-level KMS simulator', { timeout: cliLimit(5) }, () => {
  let tmp: string;
  let root: string;

  beforeEach(async () => {
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'kms-sim-test-'));
    root = path.join(tmp, 'host');
  });

  /** Alive and a daemon of this test's simulated host. */
  const isAlive = (pid: number) => isDaemonOf(simPaths(root).kmsdata, pid);

  afterEach(async () => {
    // No daemon may outlive its test: recorded pids, and any daemon serving this Kmsdata. Only
    // this host's: a recorded pid whose daemon is gone may name another test's process by now.
    const pids = new Set<number>(await findDaemonPids(simPaths(root).kmsdata));
    if (existsSync(simPaths(root).servicesFile)) {
      for (const record of Object.values((await readServicesFile(simPaths(root).servicesFile)).services)) {
        if (record.pid !== null && isAlive(record.pid)) pids.add(record.pid);
      }
    }
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('init builds the layout: original in the backup and on drive A:, the reinstall live', async () => {
    const sim = await initSimHost(root);
    const paths = simPaths(root);
    expect(sim).toEqual({ root, kmsdata: paths.kmsdata, backup: paths.backup, startupDisk: paths.startupDisk, computerName: 'KMS01' });
    expect(path.isAbsolute(sim.kmsdata)).toBe(true);

    for (const dir of [sim.kmsdata, sim.backup]) {
      for (const file of ['kmsdata.edb', 'kmsdata.chk', 'edb.log', 'res1.log', 'res2.log', 'kmscheck.dat', 'certs/ca.cer', 'certs/kms.cer']) {
        expect(existsSync(path.join(dir, file)), `${dir}/${file}`).toBe(true);
      }
    }
    expect((await fsp.stat(path.join(sim.backup, 'certs'))).isDirectory()).toBe(true);
    expect((await fsp.stat(path.join(sim.backup, 'kmsdata.edb'))).size).toBeGreaterThanOrEqual(10 * 1024);

    const originalAlpha = await readAlpha(sim.startupDisk);
    const newAlpha = await readAlpha(paths.reinstallDisk);
    expect(originalAlpha).not.toBe(newAlpha);

    const backupCheck = parseKmsCheck(await fsp.readFile(path.join(sim.backup, 'kmscheck.dat'), 'utf8'));
    const liveCheck = parseKmsCheck(await fsp.readFile(path.join(sim.kmsdata, 'kmscheck.dat'), 'utf8'));
    expect(backupCheck).toBeDefined();
    expect(liveCheck).toBeDefined();
    expect(backupCheck).not.toEqual(liveCheck);
    expect(backupCheck!.kmsId).not.toBe(liveCheck!.kmsId);
    expect(backupCheck!.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(alphaMatches(backupCheck!, originalAlpha)).toBe(true);
    expect(alphaMatches(backupCheck!, newAlpha)).toBe(false);
    expect(alphaMatches(liveCheck!, newAlpha)).toBe(true);
    expect(await fsp.readFile(path.join(sim.backup, 'kmsdata.edb')))
      .not.toEqual(await fsp.readFile(path.join(sim.kmsdata, 'kmsdata.edb')));

    // The alpha string is in clear only on the startup disks.
    for (const dir of [sim.kmsdata, sim.backup]) {
      for (const file of ['kmscheck.dat', 'certs/kms.cer']) {
        const text = await fsp.readFile(path.join(dir, file), 'utf8');
        expect(text).not.toContain(originalAlpha);
        expect(text).not.toContain(newAlpha);
      }
    }

    expect(await readServicesFile(paths.servicesFile)).toMatchObject({
      services: { MSExchangeKMS: { displayName: 'Microsoft Exchange Key Manager', startType: 'auto', state: 'running' } },
    });
  });

  it('init refuses a non-empty root; a folder without services.json is not a simulated host', async () => {
    await fsp.mkdir(root);
    expect((await rejection((async () => assertSimRoot(root))())).code).toBe('SIM_INVALID');
    expect(() => assertSimRoot(root)).toThrow(/is not a simulated host \(run kms-recover sim init first\)/);
    await fsp.writeFile(path.join(root, 'something'), 'x');
    const error = await rejection(initSimHost(root));
    expect(error.code).toBe('SIM_INVALID');
    expect(await fsp.readdir(root)).toEqual(['something']);
  });

  it('extraFiles/extraBytes add files in sub-folders to the original data (and the backup)', async () => {
    const sim = await initSimHost(root, { extraFiles: 250, extraBytes: 1_000_003 });
    const files: string[] = [];
    let bytes = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else { files.push(full); bytes += (await fsp.stat(full)).size; }
      }
    };
    await walk(path.join(sim.backup, 'archive'));
    expect(files).toHaveLength(250);
    expect(bytes).toBe(1_000_003);
    expect((await fsp.readdir(path.join(sim.backup, 'archive'))).length).toBeGreaterThan(1);
    expect(existsSync(path.join(sim.kmsdata, 'archive'))).toBe(false);
  });

  it('runs a real daemon that holds kmsdata.edb; stop, start, reject the wrong alpha, recover', async () => {
    const sim = await initSimHost(root);
    const originalAlpha = await readAlpha(sim.startupDisk);
    const newAlpha = await readAlpha(simPaths(root).reinstallDisk);
    const scm = new SimServiceManager(root);

    // After init: running, live pid, the database locked.
    const running = await scm.queryService(KMS_SERVICE_NAME);
    expect(running).toMatchObject({ name: KMS_SERVICE_NAME, state: 'running', startType: 'auto' });
    const firstPid = running.pid!;
    expect(isAlive(firstPid)).toBe(true);
    expect(await scm.lockedFiles(sim.kmsdata)).toEqual([path.join(sim.kmsdata, 'kmsdata.edb')]);
    expect(await scm.lockedFiles(sim.backup)).toEqual([]);

    // Stop: stopped, pid gone, nothing locked; stopping again is a no-op.
    expect(await scm.stopService(KMS_SERVICE_NAME, {})).toEqual({ name: KMS_SERVICE_NAME, state: 'stopped', startType: 'auto' });
    expect(isAlive(firstPid)).toBe(false);
    expect(await scm.lockedFiles(sim.kmsdata)).toEqual([]);
    expect(await scm.stopService(KMS_SERVICE_NAME, {})).toEqual({ name: KMS_SERVICE_NAME, state: 'stopped', startType: 'auto' });

    // The reinstall's alpha on the reinstall's data starts; starting again leaves it as is.
    const again = await scm.startService(KMS_SERVICE_NAME, [newAlpha], {});
    expect(again.state).toBe('running');
    expect(again.pid).not.toBe(firstPid);
    expect(await scm.startService(KMS_SERVICE_NAME, [newAlpha], {})).toEqual(again);
    await scm.stopService(KMS_SERVICE_NAME, {});

    // The ORIGINAL alpha does not fit the reinstall's data.
    const rejected = await rejection(scm.startService(KMS_SERVICE_NAME, [originalAlpha], {}));
    expect(rejected.code, rejected.message).toBe('ALPHA_REJECTED');
    expect(rejected.message).toBe(
      `the Key Management Server did not start: the alpha string does not match the KMS database in ${sim.kmsdata}`);
    expect((await scm.queryService(KMS_SERVICE_NAME)).state).toBe('stopped');
    expect((await readServicesFile(simPaths(root).servicesFile)).services.MSExchangeKMS).toMatchObject({ state: 'stopped', pid: null });

    // The recovery: Kmsdata replaced by the backup, started with the ORIGINAL alpha.
    await putBackBackup(sim);
    const recovered = await scm.startService(KMS_SERVICE_NAME, [originalAlpha], {});
    expect(recovered.state).toBe('running');
    expect(isAlive(recovered.pid!)).toBe(true);

    // A new manager over the same root sees the same state.
    const other = new SimServiceManager(root);
    expect(await other.queryService(KMS_SERVICE_NAME)).toEqual(recovered);
    expect(await other.lockedFiles(sim.kmsdata)).toEqual([path.join(sim.kmsdata, 'kmsdata.edb')]);
  });

  it('a refusal is kept when the start\'s deadline comes due with it (the manager did not get the CPU for a while), and written where the manager reads it', async () => {
    const sim = await initSimHost(root);
    const originalAlpha = await readAlpha(sim.startupDisk);
    // Long enough for the daemon to be seen alive before the deadline kills it on a loaded machine
    // (the load lane: at 2 s, it was started, killed and gone before the first look found it).
    const startTimeoutMs = 10_000;
    const scm = new SimServiceManager(root, { startTimeoutMs });
    await scm.stopService(KMS_SERVICE_NAME, {});
    const refusing = rejection(scm.startService(KMS_SERVICE_NAME, [originalAlpha], {}));
    // The daemon is spawned (its deadline set); it has not answered yet (a node process takes longer to start).
    let daemon: number | undefined;
    await until('the daemon to be spawned', async () => (daemon = (await findDaemonPids(sim.kmsdata))[0]) !== undefined, { everyMs: 5 });
    // This process, the manager, gets no turn until the daemon has refused and exited and the
    // deadline is past, as on a loaded machine: both fall due in the same turn of its event loop.
    const log = simPaths(root).daemonLog;
    const blockedUntil = Date.now() + startTimeoutMs + 500;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (Date.now() < blockedUntil || !readFileSync(log, 'utf8').includes('start failed (ALPHA_REJECTED)') || isAlive(daemon!)) {
      Atomics.wait(pause, 0, 0, 20);
    }
    const rejected = await refusing;
    expect(rejected.code, rejected.message).toBe('ALPHA_REJECTED');
    expect(rejected.message).toBe(
      `the Key Management Server did not start: the alpha string does not match the KMS database in ${sim.kmsdata}`);
    // The daemon wrote its refusal before it exited: what the manager reads when no line reached it.
    expect(JSON.parse(readFileSync(simPaths(root).daemonState, 'utf8'))).toMatchObject({
      refused: { code: 'ALPHA_REJECTED', message: rejected.message },
    });
    expect((await scm.queryService(KMS_SERVICE_NAME)).state).toBe('stopped');
  });

  it('start refuses no alpha, a missing service, and an empty Kmsdata', async () => {
    const sim = await initSimHost(root);
    const scm = new SimServiceManager(root);
    expect(await scm.queryService('NoSuchService')).toEqual({ name: 'NoSuchService', state: 'missing' });
    expect((await rejection(scm.stopService('NoSuchService', {}))).code).toBe('SERVICE_MISSING');
    expect((await rejection(scm.startService('NoSuchService', ['X'], {}))).code).toBe('SERVICE_MISSING');

    await scm.stopService(KMS_SERVICE_NAME, {});
    const noAlpha = await rejection(scm.startService(KMS_SERVICE_NAME, [], {}));
    expect(noAlpha.code).toBe('SERVICE_START_FAILED');
    expect(noAlpha.message).toBe('the KMS needs its alpha string as start parameter');

    await fsp.rm(sim.kmsdata, { recursive: true });
    await fsp.mkdir(sim.kmsdata);
    const empty = await rejection(scm.startService(KMS_SERVICE_NAME, [await readAlpha(sim.startupDisk)], {}));
    expect(empty.code).toBe('SERVICE_START_FAILED');
    expect(empty.message).toBe(`KMS database not found in ${sim.kmsdata}`);
    expect((await scm.queryService(KMS_SERVICE_NAME)).state).toBe('stopped');
  });

  it('a daemon killed with SIGKILL is a stopped service; a query writes nothing, the next stop brings the state file in line', async () => {
    await initSimHost(root);
    const scm = new SimServiceManager(root);
    const { pid } = await scm.queryService(KMS_SERVICE_NAME);
    process.kill(pid!, 'SIGKILL');
    await until(`daemon ${pid} to be gone`, () => !isAlive(pid!), { everyMs: 20 });
    const before = readFileSync(simPaths(root).servicesFile, 'utf8');
    expect(await scm.queryService(KMS_SERVICE_NAME)).toEqual({ name: KMS_SERVICE_NAME, state: 'stopped', startType: 'auto' });
    expect(readFileSync(simPaths(root).servicesFile, 'utf8')).toBe(before);
    expect(await scm.stopService(KMS_SERVICE_NAME, {})).toEqual({ name: KMS_SERVICE_NAME, state: 'stopped', startType: 'auto' });
    expect((await readServicesFile(simPaths(root).servicesFile)).services.MSExchangeKMS)
      .toMatchObject({ state: 'stopped', pid: null, startedAt: null });
  });

  it('a recorded pid that now names another host\'s daemon, or one of its threads (pids are reused), is not this host\'s: stopped, and neither stopped nor killed', async () => {
    const sim = await initSimHost(root);
    const otherRoot = path.join(tmp, 'other');
    const otherKmsdata = (await initSimHost(otherRoot)).kmsdata;
    const other = new SimServiceManager(otherRoot);
    const otherPid = (await other.queryService(KMS_SERVICE_NAME)).pid!;
    try {
      // This host's daemon dies outside its service manager (a crash, a kill) ...
      const scm = new SimServiceManager(root);
      const { pid } = await scm.queryService(KMS_SERVICE_NAME);
      process.kill(pid!, 'SIGKILL');
      await until(`daemon ${pid} to be gone`, () => !isAlive(pid!), { everyMs: 20 });
      // ... and the system hands its pid to the other host's daemon, or to one of that daemon's threads.
      const thread = readdirSync(`/proc/${otherPid}/task`).map(Number).find((tid) => tid !== otherPid)!;
      expect(thread).toBeDefined();
      const paths = simPaths(root);
      const recordRunning = async (reused: number) => {
        const state = await readServicesFile(paths.servicesFile);
        state.services.MSExchangeKMS = { ...state.services.MSExchangeKMS!, state: 'running', pid: reused };
        await fsp.writeFile(paths.servicesFile, JSON.stringify(state));
      };
      for (const reused of [otherPid, thread]) {
        await recordRunning(reused);
        expect(await scm.queryService(KMS_SERVICE_NAME), `pid ${reused}`).toEqual({ name: KMS_SERVICE_NAME, state: 'stopped', startType: 'auto' });
        expect(await scm.lockedFiles(sim.kmsdata)).toEqual([]);
        expect(await scm.stopService(KMS_SERVICE_NAME, {})).toEqual({ name: KMS_SERVICE_NAME, state: 'stopped', startType: 'auto' });
        await recordRunning(reused);
        expect(await scm.killAll(), `pid ${reused}`).toBeNull();
        expect(isDaemonOf(otherKmsdata, otherPid), `the other host's daemon, after this host's stop and kill with pid ${reused} recorded`).toBe(true);
      }
      expect(await other.queryService(KMS_SERVICE_NAME)).toMatchObject({ state: 'running', pid: otherPid });
    } finally {
      await other.killAll();
    }
  });

  it('adopts a running daemon the state file lost (its starter died before recording it)', async () => {
    await initSimHost(root);
    const paths = simPaths(root);
    const { pid } = await new SimServiceManager(root).queryService(KMS_SERVICE_NAME);
    const state = await readServicesFile(paths.servicesFile);
    state.services.MSExchangeKMS = { ...state.services.MSExchangeKMS!, state: 'stopped', pid: null, startedAt: null };
    await fsp.writeFile(paths.servicesFile, JSON.stringify(state));

    const scm = new SimServiceManager(root);
    expect(await scm.queryService(KMS_SERVICE_NAME)).toMatchObject({ state: 'running', pid });
    await scm.stopService(KMS_SERVICE_NAME, {});
    expect(isAlive(pid!)).toBe(false);
  });

  it('rebootSimHost: power loss, then auto services start from the startup disk in A:', async () => {
    const sim = await initSimHost(root);
    const scm = new SimServiceManager(root);
    const before = (await scm.queryService(KMS_SERVICE_NAME)).pid!;

    // Before the recovery the disk in A: holds the ORIGINAL alpha: the reinstall's data refuses it.
    const failed = await rebootSimHost(root);
    expect(failed.killed).toBe(before);
    expect(failed.started).toBe(false);
    expect(failed.error).toMatch(/alpha string does not match/);
    expect(isAlive(before)).toBe(false);
    expect((await scm.queryService(KMS_SERVICE_NAME)).state).toBe('stopped');
    expect(await fsp.readFile(simPaths(root).daemonLog, 'utf8')).not.toMatch(/stopping on SIGTERM/);
    // The refused daemon reported, and exits: the reboot returns before it is gone.
    await until('the refused daemon to exit', async () => (await findDaemonPids(sim.kmsdata)).length === 0);

    // After the recovery it comes back by itself.
    await putBackBackup(sim);
    const booted = await rebootSimHost(root);
    expect(booted).toEqual({ killed: null, started: true });
    const after = await scm.queryService(KMS_SERVICE_NAME);
    expect(after.state).toBe('running');
    expect(isAlive(after.pid!)).toBe(true);

    const again = await rebootSimHost(root);
    expect(again).toEqual({ killed: after.pid, started: true });
    expect(isAlive(after.pid!)).toBe(false);
  });

  it('createSimHost refuses to clear or restore while the daemon holds the files (FILE_IN_USE)', async () => {
    const sim = await initSimHost(root);
    const calls: string[] = [];
    const fsOps: KmsdataOperations = {
      ...fsKmsdataOperations,
      checkKmsdataPath: async (kmsdata) => kmsdata,
      checkBackupPath: async (backup) => backup,
      manifest: async () => ({ files: [], dirs: [], fileCount: 0, totalBytes: 0, digest: '' }),
      clearKmsdata: async (): Promise<ClearReport> => { calls.push('clear'); return { removed: 1, remaining: 0, quarantine: 'q' }; },
      removeQuarantine: async () => ({ removed: [], kept: [] }),
      restoreKmsdata: async (): Promise<RestoreReport> => {
        calls.push('restore');
        return { identity: { dev: '1', ino: '1' }, fileCount: 0, totalBytes: 0, digest: '', mismatches: [], alreadyRestored: false, stamp: null };
      },
      checkBackupAgainstManifest: async () => ({ matches: true, differences: [] }),
      verifyKmsdata: async () => ({ matches: true, differences: [] }),
    };
    const host = createSimHost(root, fsOps);
    const manifest: Manifest = { files: [], dirs: [], fileCount: 0, totalBytes: 0, digest: '' };

    const inUse = await rejection(host.clearKmsdata(sim.kmsdata, 'run1', { expected: null, record: () => undefined }));
    expect(inUse.code).toBe('FILE_IN_USE');
    expect(inUse.message).toBe(
      `cannot delete ${path.join(sim.kmsdata, 'kmsdata.edb')}: the file is in use (is the KMS service still running?)`);
    expect((await rejection(host.restoreKmsdata(sim.backup, sim.kmsdata, manifest, 'run1'))).code).toBe('FILE_IN_USE');
    expect(calls).toEqual([]);

    expect((await host.stopService(KMS_SERVICE_NAME, {})).state).toBe('stopped');
    await host.clearKmsdata(sim.kmsdata, 'run1', { expected: null, record: () => undefined });
    await host.restoreKmsdata(sim.backup, sim.kmsdata, manifest, 'run1');
    expect(calls).toEqual(['clear', 'restore']);
    expect(() => createSimHost(tmp, fsOps)).toThrow(/not a simulated host/);
  });

  it('the alpha string is nowhere: not in services.json, the daemon log, the daemon argv or env', async () => {
    const sim = await initSimHost(root);
    const paths = simPaths(root);
    const originalAlpha = await readAlpha(sim.startupDisk);
    const newAlpha = await readAlpha(paths.reinstallDisk);
    const scm = new SimServiceManager(root);

    await scm.stopService(KMS_SERVICE_NAME, {});
    await rejection(scm.startService(KMS_SERVICE_NAME, [originalAlpha], {}));
    await scm.startService(KMS_SERVICE_NAME, [newAlpha], {});
    const { pid } = await scm.queryService(KMS_SERVICE_NAME);

    const places = [
      await fsp.readFile(paths.servicesFile, 'utf8'),
      await fsp.readFile(paths.daemonLog, 'utf8'),
      (await fsp.readFile(`/proc/${pid}/cmdline`)).toString('utf8'),
      (await fsp.readFile(`/proc/${pid}/environ`)).toString('utf8'),
    ];
    expect(places[1]).toMatch(/alpha string verified/);
    expect(places[2]).toContain('kms-daemon');
    for (const text of places) {
      expect(text).not.toContain(originalAlpha);
      expect(text).not.toContain(newAlpha);
    }
  });
});
