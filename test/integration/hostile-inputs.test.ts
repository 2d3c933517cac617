import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../persistence/index.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { serviceState, statusOf } from '../helpers/sim-cli.js';
import { cleanupSimFixtures, simFixture, treeBytes, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';

afterEach(cleanupSimFixtures);

/** Everything an operator would not want changed: Kmsdata, the backup, the service, the database. */
function diskState(sim: SimFixture) {
  return {
    kmsdata: fs.existsSync(sim.kmsdata) ? treeBytes(sim.kmsdata) : null,
    backup: treeBytes(sim.backup),
    exchsrvr: fs.readdirSync(path.dirname(sim.kmsdata)).sort(),
    db: fs.existsSync(sim.db) ? fs.readFileSync(sim.db) : null,
  };
}

function expectOneLineError(result: CliResult, code: number, message: RegExp) {
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/^kms-recover: /);
  expect(result.code).toBe(code);
}

async function expectNothingChanged(sim: SimFixture, args: string[], code: number, message: RegExp, env: Record<string, string> = {}) {
  const before = diskState(sim);
  const result = await runCli(args, { env });
  expectOneLineError(result, code, message);
  expect(diskState(sim)).toEqual(before);
  expect(await serviceState(sim)).toBe('running');
  return result;
}

const startArgs = (sim: SimFixture, over: { kmsdata?: string; backup?: string; disk?: string } = {}) => [
  'start', '--kmsdata', over.kmsdata ?? sim.kmsdata, '--backup', over.backup ?? sim.backup,
  '--startup-disk', over.disk ?? sim.startupDisk, '--sim-root', sim.root, '--db', sim.db,
];

describe('hostile databases', () => {
  it('a file that is not SQLite', async () => {
    const sim = await simFixture();
    fs.writeFileSync(sim.db, 'Subject: not a database\n'.repeat(50));
    await expectNothingChanged(sim, startArgs(sim), 6, /runs\.db is not a kms-recover database \(not an SQLite file\)/);
    await expectNothingChanged(sim, ['status', '--db', sim.db], 6, /not a kms-recover database/);
  }, cliLimit(2));

  it('another program\'s SQLite database', async () => {
    const sim = await simFixture();
    const other = new Database(sim.db);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)');
    other.close();
    await expectNothingChanged(sim, startArgs(sim), 6, /an SQLite database of another program/);
  }, cliLimit(1));

  async function finishedRunDb(sim: SimFixture): Promise<void> {
    const done = await runCli(startArgs(sim));
    expect(done.code).toBe(0);
    await runCli(['sim', 'stop', sim.root]);
    await runCli(['sim', 'reboot', sim.root]); // service back to running for the checks below
    const db = new Database(sim.db);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }

  it('a truncated database', async () => {
    const sim = await simFixture();
    await finishedRunDb(sim);
    const size = fs.statSync(sim.db).size;
    fs.truncateSync(sim.db, Math.floor(size / 2));
    const result = await runCli(['status', '--db', sim.db]);
    expectOneLineError(result, 6, /runs\.db is damaged/);
    expect(fs.statSync(sim.db).size).toBe(Math.floor(size / 2));
  }, cliLimit(4));

  it('a corrupt database (damaged pages)', async () => {
    const sim = await simFixture();
    await finishedRunDb(sim);
    const bytes = fs.readFileSync(sim.db);
    const pageSize = bytes.readUInt16BE(16);
    for (let page = 1; page * pageSize < bytes.length; page += 1) bytes.fill(0xa5, page * pageSize + 8, page * pageSize + 64);
    fs.writeFileSync(sim.db, bytes);
    const result = await runCli(['status', '--db', sim.db]);
    expectOneLineError(result, 6, /runs\.db is damaged/);
    expect(fs.readFileSync(sim.db)).toEqual(bytes);
  }, cliLimit(4));

  it('a database from a newer schema version', async () => {
    const sim = await simFixture();
    const { db } = openDatabase(sim.db);
    db.pragma('user_version = 99');
    db.close();
    await expectNothingChanged(sim, startArgs(sim), 6, /schema version 99; this kms-recover knows up to \d+: use a newer kms-recover/);
  }, cliLimit(1));

  it('a database locked by another writer past the busy timeout', async () => {
    const sim = await simFixture();
    openDatabase(sim.db).db.close();
    const holder = new Database(sim.db);
    holder.pragma('journal_mode = WAL');
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const before = treeBytes(sim.kmsdata);
      const result = await runCli(startArgs(sim), { env: { KMS_RECOVER_BUSY_TIMEOUT_MS: '300' } });
      expectOneLineError(result, 6, /runs\.db is locked by another process writing to it/);
      expect(treeBytes(sim.kmsdata)).toEqual(before);
      expect(await serviceState(sim)).toBe('running');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  }, cliLimit(1));
});

describe('hostile paths', () => {
  it('Kmsdata that does not exist', async () => {
    const sim = await simFixture();
    const missing = path.join(sim.root, 'Exchsrvr', 'Kmsdata2');
    await expectNothingChanged(sim, startArgs(sim, { kmsdata: missing }), 3, /Kmsdata2/);
  }, cliLimit(1));

  it('Kmsdata that is a file', async () => {
    const sim = await simFixture();
    const file = path.join(sim.dir, 'Exchsrvr', 'Kmsdata');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, 'x');
    await expectNothingChanged(sim, startArgs(sim, { kmsdata: file }), 3, /not a (folder|directory)/);
  }, cliLimit(1));

  it('Kmsdata that is a symlink out of its tree', async () => {
    const sim = await simFixture();
    const exchsrvr = path.join(sim.dir, 'elsewhere', 'Exchsrvr');
    fs.mkdirSync(exchsrvr, { recursive: true });
    fs.symlinkSync(sim.kmsdata, path.join(exchsrvr, 'Kmsdata'));
    await expectNothingChanged(sim, startArgs(sim, { kmsdata: path.join(exchsrvr, 'Kmsdata') }), 3, /link/);
  }, cliLimit(1));

  it('Kmsdata that is the backup itself', async () => {
    const sim = await simFixture();
    await expectNothingChanged(sim, startArgs(sim, { backup: sim.kmsdata }), 3, /separate copy|same|backup/);
  }, cliLimit(1));

  it('a backup that does not exist, or is a file', async () => {
    const sim = await simFixture();
    await expectNothingChanged(sim, startArgs(sim, { backup: path.join(sim.dir, 'nope') }), 3, /nope/);
    const file = path.join(sim.dir, 'backup.zip');
    fs.writeFileSync(file, 'PK');
    await expectNothingChanged(sim, startArgs(sim, { backup: file }), 3, /backup\.zip/);
  }, cliLimit(2));

  it('a backup with a symlink pointing out of it', async () => {
    const sim = await simFixture();
    const copy = path.join(sim.dir, 'backup-copy', 'Kmsdata');
    fs.cpSync(sim.backup, copy, { recursive: true });
    fs.symlinkSync('/etc/hostname', path.join(copy, 'escape.dat'));
    await expectNothingChanged(sim, startArgs(sim, { backup: copy }), 3, /link/);
  }, cliLimit(1));
});

describe('hostile startup disks', () => {
  const cases: [string, string | null, RegExp][] = [
    ['missing', null, /not found/],
    ['empty', '', /is empty/],
    ['without [config]', 'pwd=ABCDEFGHIJKLMN\r\n', /no \[config\] section/],
    ['with a password of the wrong length', '[config]\r\npwd=ABCDEFGHIJK\r\n', /11 characters; an alpha string has 14/],
  ];
  for (const [name, content, message] of cases) {
    it(`a Kmspwd.ini that is ${name}`, async () => {
      const sim = await simFixture();
      const disk = path.join(sim.dir, 'floppy', 'Kmspwd.ini');
      if (content !== null) {
        fs.mkdirSync(path.dirname(disk));
        fs.writeFileSync(disk, content);
      }
      const result = await expectNothingChanged(sim, startArgs(sim, { disk }), 3, message);
      expect(result.stderr).not.toContain('ABCDEFGHIJK');
    }, cliLimit(1));
  }
});

describe('hostile run ids and finished runs', () => {
  it('an unknown run id', async () => {
    const sim = await simFixture();
    expect((await runCli(startArgs(sim))).code).toBe(0);
    expectOneLineError(await runCli(['status', 'ffffffff', '--db', sim.db]), 7, /no run "ffffffff"/);
    expectOneLineError(await runCli(['resume', 'ffffffff', '--db', sim.db]), 7, /no run "ffffffff"/);
  }, cliLimit(3));

  it('resume of a finished run', async () => {
    const sim = await simFixture();
    expect((await runCli(startArgs(sim))).code).toBe(0);
    const before = diskState(sim);
    const result = await runCli(['resume', '--db', sim.db], { env: { KMS_ALPHA_STRING: sim.alpha } });
    expectOneLineError(result, 7, /no unfinished run/);
    const { runId } = await statusOf(sim);
    expectOneLineError(await runCli(['resume', runId, '--db', sim.db]), 7, new RegExp(`run ${runId} is already finished`));
    expect(diskState(sim)).toEqual(before);
  }, cliLimit(4));

  it('status on a database that does not exist does not create one', async () => {
    const sim = await simFixture();
    expectOneLineError(await runCli(['status', '--db', sim.db]), 7, /no kms-recover database at/);
    expect(fs.existsSync(sim.db)).toBe(false);
  }, cliLimit(1));
});

describe('a backup that loses a file after the preflight', () => {
  it('is refused before the clear, and Kmsdata is untouched', async () => {
    const sim = await simFixture();
    const killed = await runCli(startArgs(sim), { env: { KMS_RECOVER_FAIL_AT: 'after-checkpoint:stopped' } });
    expect(killed.signal).toBe('SIGKILL');
    const kmsdataBefore = treeBytes(sim.kmsdata);
    fs.rmSync(path.join(sim.backup, 'certs'), { recursive: true });
    const result = await runCli(['resume', '--db', sim.db], { env: { KMS_ALPHA_STRING: sim.alpha } });
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/backup .* changed since it was checked .*Kmsdata was not touched/);
    expect(treeBytes(sim.kmsdata)).toEqual(kmsdataBefore);
    expect(await statusOf(sim)).toMatchObject({ state: 'stopped', phase: 'failed', lastError: { code: 'BACKUP_CHANGED' } });
  }, cliLimit(3));
});
