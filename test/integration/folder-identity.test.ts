import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KMS_SERVICE_NAME } from '../../domain/index.js';
import { NO_RUN_GUARD } from '../../host/types.js';
import { SimServiceManager, simPaths } from '../../host/sim/index.js';
import { readServicesFile, writeServicesFile } from '../../host/sim/sim-state.js';
import { parseJson, runCli, type CliResult } from '../helpers/run-cli.js';
import { exchsrvrEntries } from '../helpers/server-claim.js';
import { alphaOf, cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/*
 * Issue 20's reproductions of "the tool knows the server by the paths it was given": each is
 * refused before anything changes (exit 3), with the service still running as the same
 * process, Kmsdata and the backup byte-equal to before, and no database file where it was
 * refused. Real processes: the built CLI on a simulated server.
 */

const isRoot = process.getuid?.() === 0;
const rootOnly = isRoot ? it : it.skip;
if (!isRoot) console.warn('folder-identity: the bind-mount and tmpfs cases need root (mount); they are skipped here');

interface Picture {
  pid: number | undefined;
  state: string;
  kmsdata: Map<string, Buffer>;
  backup: Map<string, Buffer>;
  exchsrvr: string[];
}

async function picture(sim: SimFixture, backup = sim.backup): Promise<Picture> {
  const status = await new SimServiceManager(sim.root).queryService(KMS_SERVICE_NAME);
  return { pid: status.pid, state: status.state, kmsdata: treeBytes(sim.kmsdata), backup: treeBytes(backup), exchsrvr: exchsrvrEntries(sim) };
}

async function expectUnchanged(sim: SimFixture, before: Picture, backup = sim.backup): Promise<void> {
  const after = await picture(sim, backup);
  expect(after.state).toBe('running');
  expect(after.pid).toBe(before.pid);
  expect(after.kmsdata).toEqual(before.kmsdata);
  expect(after.backup).toEqual(before.backup);
  expect(after.exchsrvr).toEqual(before.exchsrvr);
}

function expectRefused(result: CliResult, code: string): { code: string; message: string } {
  expect(result.code, result.stderr).toBe(3);
  const error = parseJson<{ error: { code: string; message: string } }>(result).error;
  expect(error.code, error.message).toBe(code);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  return error;
}

const noDbFiles = (db: string) => ['', '-wal', '-shm'].map((s) => `${db}${s}`).concat(db.replace(/\.db$/, '.log')).filter((f) => fs.existsSync(f));

describe('the trees a run touches cannot overlap, judged by identity', () => {
  it('cd Kmsdata && start --kmsdata . --db kms-recover.db (the database would lie in Kmsdata) is refused before anything changes; so is --dry-run', async () => {
    const sim = await simFixture();
    const before = await picture(sim);
    for (const extra of [[], ['--dry-run']]) {
      const result = await runCli(['start', '--kmsdata', '.', '--backup', sim.backup, '--startup-disk', sim.startupDisk, '--sim-root', sim.root, '--db', 'kms-recover.db', '--json', ...extra], { cwd: sim.kmsdata });
      const error = expectRefused(result, 'PATHS_OVERLAP');
      expect(error.message).toContain(`the database ${path.join(sim.kmsdata, 'kms-recover.db')} lies inside Kmsdata ${sim.kmsdata}`);
      await expectUnchanged(sim, before);
      expect(noDbFiles(path.join(sim.kmsdata, 'kms-recover.db'))).toEqual([]);
    }
  }, cliLimit(2));

  it('--db inside Kmsdata (in a sub-folder) is refused before anything changes', async () => {
    const sim = await simFixture();
    const db = path.join(sim.kmsdata, 'certs', 'runs.db');
    const before = await picture(sim);
    const result = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--startup-disk', sim.startupDisk, '--db', db, '--json']);
    expectRefused(result, 'PATHS_OVERLAP');
    await expectUnchanged(sim, before);
    expect(noDbFiles(db)).toEqual([]);
  }, cliLimit(1));

  it('a database inside the backup folder is refused before it is created: the backup is never written to', async () => {
    const sim = await simFixture();
    const db = path.join(sim.backup, 'kms-recover.db');
    const before = await picture(sim);
    for (const extra of [[], ['--dry-run']]) {
      const result = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--startup-disk', sim.startupDisk, '--db', db, '--json', ...extra]);
      const error = expectRefused(result, 'PATHS_OVERLAP');
      expect(error.message).toContain(`lies inside the backup ${sim.backup}, which must never change`);
      await expectUnchanged(sim, before);
      expect(noDbFiles(db)).toEqual([]);
    }
  }, cliLimit(2));

  it('an existing database inside the backup is not even opened (no -wal or -shm appears in the backup)', async () => {
    const sim = await simFixture();
    // A database made by a finished recovery elsewhere, then copied into the backup folder.
    const other = await simFixture();
    const made = await runCli(['start', '--kmsdata', other.kmsdata, '--backup', other.backup, '--startup-disk', other.startupDisk, '--db', other.db]);
    expect(made.code, made.stderr).toBe(0);
    const db = path.join(sim.backup, 'old-run.db');
    fs.copyFileSync(other.db, db);
    const before = await picture(sim);
    const result = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--startup-disk', sim.startupDisk, '--db', db, '--json']);
    expectRefused(result, 'PATHS_OVERLAP');
    await expectUnchanged(sim, before);
    expect(fs.existsSync(`${db}-wal`) || fs.existsSync(`${db}-shm`)).toBe(false);
  }, cliLimit(2));

  it('the startup disk inside Kmsdata is refused (the clear would take it away before a resume needs it)', async () => {
    const sim = await simFixture();
    const disk = path.join(sim.kmsdata, 'Kmspwd.ini');
    fs.copyFileSync(sim.startupDisk, disk);
    const before = await picture(sim);
    const result = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--startup-disk', disk, '--db', sim.db, '--json']);
    const error = expectRefused(result, 'PATHS_OVERLAP');
    expect(error.message).toContain(`the startup disk ${disk} lies inside Kmsdata`);
    await expectUnchanged(sim, before);
    expect(noDbFiles(sim.db)).toEqual([]);
  }, cliLimit(1));

  rootOnly('a backup reached through a bind mount of a folder inside Kmsdata is refused: the clear would quarantine it', async () => {
    const sim = await simFixture();
    const inside = path.join(sim.kmsdata, 'old-backup');
    fs.cpSync(sim.backup, inside, { recursive: true });
    const mounted = path.join(sim.dir, 'backup-mount');
    fs.mkdirSync(mounted);
    execFileSync('mount', ['--bind', inside, mounted]);
    try {
      const before = await picture(sim, mounted);
      for (const extra of [[], ['--dry-run']]) {
        const result = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', mounted, '--startup-disk', sim.startupDisk, '--db', sim.db, '--json', ...extra]);
        const error = expectRefused(result, 'PATHS_OVERLAP');
        expect(error.message).toContain(`the backup ${mounted} lies inside Kmsdata ${sim.kmsdata} (${mounted} is ${inside}, the same folder by device and inode)`);
        await expectUnchanged(sim, before, mounted);
        expect(noDbFiles(sim.db)).toEqual([]);
      }
    } finally {
      execFileSync('umount', [mounted]);
    }
  }, cliLimit(2));

  rootOnly('a backup holding a bind mount of a Kmsdata folder is refused (they share a folder)', async () => {
    const sim = await simFixture();
    const certs = path.join(sim.backup, 'certs');
    execFileSync('mount', ['--bind', path.join(sim.kmsdata, 'certs'), certs]);
    try {
      const before = await picture(sim);
      const result = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--startup-disk', sim.startupDisk, '--db', sim.db, '--json']);
      const error = expectRefused(result, 'PATHS_OVERLAP');
      expect(error.message).toContain('share a folder');
      await expectUnchanged(sim, before);
    } finally {
      execFileSync('umount', [certs]);
    }
  }, cliLimit(1));
});

describe('Kmsdata is the KMS service\'s own', () => {
  it('--sim-root A --kmsdata B/Exchsrvr/Kmsdata is refused, naming both folders; neither server changes', async () => {
    const a = await simFixture();
    const b = await simFixture();
    const beforeA = await picture(a);
    const beforeB = await picture(b);
    for (const extra of [[], ['--dry-run']]) {
      const result = await runCli(['start', '--sim-root', a.root, '--kmsdata', b.kmsdata, '--backup', b.backup, '--startup-disk', b.startupDisk, '--db', b.db, '--json', ...extra]);
      const error = expectRefused(result, 'KMSDATA_NOT_THE_SERVICES');
      expect(error.message).toContain(`--kmsdata ${b.kmsdata} is not the folder MSExchangeKMS keeps its data in: its service configuration says ${a.kmsdata}`);
      await expectUnchanged(a, beforeA);
      await expectUnchanged(b, beforeB);
      expect(noDbFiles(b.db)).toEqual([]);
    }
  }, cliLimit(2));

  it('resume refuses a run whose Kmsdata is no longer the folder its service uses, before anything changes', async () => {
    const sim = await simFixture();
    // The run waits at a manual stop: nothing has changed on the server yet.
    const waiting = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--startup-disk', sim.startupDisk, '--db', sim.db, '--manual', 'stopService']);
    expect(waiting.code, waiting.stderr).toBe(8);
    // The service is re-registered with its data elsewhere (a reinstall to another folder).
    const elsewhere = path.join(sim.dir, 'D', 'Exchsrvr', 'Kmsdata');
    fs.cpSync(sim.kmsdata, elsewhere, { recursive: true });
    const file = simPaths(sim.root).servicesFile;
    const services = await readServicesFile(file);
    services.services[KMS_SERVICE_NAME]!.dataFolder = elsewhere;
    await writeServicesFile(file, services);
    const before = await picture(sim);
    const result = await runCli(['resume', '--db', sim.db, '--startup-disk', sim.startupDisk, '--json']);
    const error = expectRefused(result, 'KMSDATA_NOT_THE_SERVICES');
    expect(error.message).toContain(`its service configuration says ${elsewhere}`);
    await expectUnchanged(sim, before);
  }, cliLimit(2));

  it('sim init records the data folder in the service record, and the daemon serves that folder', async () => {
    const sim = await simFixture();
    const services = await readServicesFile(simPaths(sim.root).servicesFile);
    expect(services.services[KMS_SERVICE_NAME]!.dataFolder).toBe('Exchsrvr/Kmsdata');
    expect(await new SimServiceManager(sim.root).serviceKmsdata(KMS_SERVICE_NAME)).toBe(sim.kmsdata);
  }, 30_000);
});

describe('one file system', () => {
  rootOnly('a Kmsdata that is a mount point (tmpfs) is refused at the start checks with words, not EXDEV; the service keeps running', async () => {
    const sim = await simFixture();
    const manager = new SimServiceManager(sim.root);
    await manager.stopService(KMS_SERVICE_NAME, NO_RUN_GUARD);
    const saved = path.join(sim.dir, 'saved-kmsdata');
    fs.cpSync(sim.kmsdata, saved, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'kms-test', sim.kmsdata]);
    try {
      fs.cpSync(saved, sim.kmsdata, { recursive: true });
      await manager.startService(KMS_SERVICE_NAME, [alphaOf(simPaths(sim.root).reinstallDisk)], NO_RUN_GUARD);
      const before = await picture(sim);
      for (const extra of [[], ['--dry-run']]) {
        const result = await runCli(['start', '--kmsdata', sim.kmsdata, '--backup', sim.backup, '--startup-disk', sim.startupDisk, '--db', sim.db, '--json', ...extra]);
        const error = expectRefused(result, 'KMSDATA_MOUNT_POINT');
        expect(error.message).toContain(`Kmsdata ${sim.kmsdata} is a mount point`);
        expect(error.message).not.toContain('EXDEV');
        await expectUnchanged(sim, before);
        expect(noDbFiles(sim.db)).toEqual([]);
      }
    } finally {
      await manager.killAll();
      execFileSync('umount', [sim.kmsdata]);
    }
  }, cliLimit(2));
});
