import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { recoveryMachine } from '../../machines/index.js';
import { openDatabase } from '../../persistence/index.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { cliLimit } from '../helpers/time-limit.js';

const RUNS = 60;
const EVENTS_PER_RUN = 100;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A store with a history: RUNS closed runs of EVENTS_PER_RUN events each (the events span many
 * pages), made by the product's openDatabase and filled as the bench's buildStore fills it.
 */
function storeWithHistory(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-db-checks-'));
  dirs.push(dir);
  const file = path.join(dir, 'kms-recover.db');
  const { db } = openDatabase(file);
  const snapshot = createActor(recoveryMachine, { input: {
    serviceName: 'MSExchangeKMS', kmsdata: 'C:\\Exchsrvr\\Kmsdata', backup: 'D:\\backup\\Kmsdata',
    backupManifest: { fileCount: 1, totalBytes: 1, digest: 'c'.repeat(64) }, kmsdataIdentity: { dev: '1', ino: '2' }, manual: [],
  } }).getPersistedSnapshot();
  const insertRun = db.prepare(`INSERT INTO runs (id, host, machine_version, definition_hash, adapter, adapter_config, state, phase, snapshot, created_at, updated_at, closed_at,
      server_key, service_name, kmsdata, backup, backup_files, backup_bytes, backup_digest)
    VALUES (?, 'KMS01', 1, ?, 'sim', '{}', 'running', 'done', ?, ?, ?, ?, ?, 'MSExchangeKMS', 'C:\\Exchsrvr\\Kmsdata', 'D:\\backup\\Kmsdata', 1, 1, ?)`);
  const insertEvent = db.prepare('INSERT INTO events (run_id, seq, event, from_state, to_state, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let r = 0; r < RUNS; r += 1) {
      const id = runIds()[r]!;
      const at = new Date(Date.parse('2025-01-01T00:00:00Z') + r * 3_600_000).toISOString();
      insertRun.run(id, 'f'.repeat(64), JSON.stringify(snapshot), at, at, at, `C:\\KMS${r}\\Exchsrvr\\Kmsdata`, 'c'.repeat(64));
      for (let seq = 1; seq <= EVENTS_PER_RUN; seq += 1) {
        insertEvent.run(id, seq, 'step.started', 'stopped', 'stopped', at, JSON.stringify({ step: 'restoreKmsdata', attempt: seq, note: 'x'.repeat(120) }));
      }
    }
  }).immediate();
  db.close(); // the last connection's close folds the WAL into the file
  expect(fs.existsSync(`${file}-wal`)).toBe(false);
  return file;
}

function lastFullCheck(file: string): string | null {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT full_checked_at FROM database_checks WHERE id = 1').get() as { full_checked_at: string | null }).full_checked_at;
  } finally {
    db.close();
  }
}

function setLastFullCheck(file: string, at: string): void {
  const db = new Database(file);
  try {
    db.prepare('UPDATE database_checks SET full_checked_at = ? WHERE id = 1').run(at);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/** Overwrites the cell pointers of one leaf page of the events table, as a bad sector would; returns a run whose events it held. */
function damageAnEventsPage(file: string): string | undefined {
  const db = new Database(file, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const leaves = (db.prepare("SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno").all() as { pageno: number }[]).map((p) => p.pageno);
  db.close();
  expect(leaves.length).toBeGreaterThan(20);
  const page = leaves[Math.floor(leaves.length / 2)]!;
  const bytes = Buffer.alloc(pageSize);
  const fd = fs.openSync(file, 'r+');
  try {
    fs.readSync(fd, bytes, 0, pageSize, (page - 1) * pageSize);
    fs.writeSync(fd, Buffer.alloc(56, 0xa5), 0, 56, (page - 1) * pageSize + 8);
  } finally {
    fs.closeSync(fd);
  }
  // The page's first cell (its pointer follows the 8-byte header of a leaf page) begins with the key: the run's id.
  const firstCell = bytes.readUInt16BE(8);
  return runIds().find((id) => bytes.subarray(firstCell, firstCell + 32).includes(id, 0, 'latin1'));
}

function runIds(): string[] {
  return Array.from({ length: RUNS }, (_, r) => (0x10000000 + r * 7919).toString(16).slice(-8));
}

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

function expectDamage(result: CliResult, what: RegExp): void {
  expect(result.code).toBe(6);
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr).toMatch(/^kms-recover: .*kms-recover\.db is damaged/);
  expect(result.stderr).toMatch(what);
}

describe('check-db', () => {
  it('checks the whole file: ok on a sound store, one line saying what it checked and how long it took', async () => {
    const file = storeWithHistory();
    const before = fs.readFileSync(file);
    const result = await runCli(['check-db', '--db', file]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(/kms-recover\.db: no damage found: every page of its \d+ tables and their indexes checked \([\d.]+ [KMG]B\) in \d+(\.\d)? m?s/);
    expect(fs.readFileSync(file)).toEqual(before); // changes nothing, records nothing
    const json = await runCli(['check-db', '--db', file, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ db: file, ok: true, whole: true, tables: expect.arrayContaining(['events', 'runs', 'step_attempts']) });
  }, cliLimit(2));

  it('finds a damaged events page that a reading command, which checks only what it reads, does not meet', async () => {
    const file = storeWithHistory();
    damageAnEventsPage(file);
    const status = await runCli(['list', '--db', file, '--json']);
    expect(status.code).toBe(0);
    const result = await runCli(['check-db', '--db', file]);
    expectDamage(result, /integrity check of the whole file/);
  }, cliLimit(2));
});

describe('the rows a command reads', () => {
  // SQLite bounds a bad cell pointer to its page: without cell_size_check a reader would read
  // garbage as rows, and say nothing.
  it('a damaged page of a run\'s own events is met by the command that reads them: DB_CORRUPT, one line', async () => {
    const file = storeWithHistory();
    setLastFullCheck(file, hoursAgo(1));
    const damaged = damageAnEventsPage(file);
    expect(damaged).toBeDefined();
    expectDamage(await runCli(['history', damaged!, '--db', file]), /malformed/);
  }, cliLimit(1));
});

describe('the once-a-day full check of a command that writes', () => {
  it('a new database records its creation as its first full check', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-db-checks-'));
    dirs.push(dir);
    const file = path.join(dir, 'new.db');
    const before = Date.now();
    openDatabase(file).db.close();
    expect(Date.parse(lastFullCheck(file)!)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('runs at most once a day on a store with a history: the second write command of the day does not check the whole file again', async () => {
    const file = storeWithHistory();
    const old = hoursAgo(30);
    setLastFullCheck(file, old);
    const first = await runCli(['resume', '--db', file]);
    expect(first.stderr).toMatch(/no unfinished run/);
    const checkedAt = lastFullCheck(file);
    expect(checkedAt).not.toBe(old);
    expect(Date.parse(checkedAt!)).toBeGreaterThan(Date.parse(old));
    const second = await runCli(['resume', '--db', file]);
    expect(second.stderr).toMatch(/no unfinished run/);
    expect(lastFullCheck(file)).toBe(checkedAt);
  }, cliLimit(2));

  it('finds a damaged events page when the last full check is a day old, and not before; damage is never recorded as checked', async () => {
    const file = storeWithHistory();
    const recent = hoursAgo(1);
    setLastFullCheck(file, recent);
    damageAnEventsPage(file);
    // Checked an hour ago: this command reads no event of that page, and does not meet it.
    const within = await runCli(['resume', '--db', file]);
    expect(within.code).not.toBe(6);
    expect(within.stderr).toMatch(/no unfinished run/);
    expect(lastFullCheck(file)).toBe(recent);

    const dayOld = hoursAgo(25);
    setLastFullCheck(file, dayOld);
    const due = await runCli(['resume', '--db', file]);
    expectDamage(due, /integrity check of the whole file/);
    expect(lastFullCheck(file)).toBe(dayOld);
  }, cliLimit(2));

  it('checks the whole file when the recorded time is in the future (the clock was set back)', async () => {
    const file = storeWithHistory();
    setLastFullCheck(file, new Date(Date.now() + 48 * 3_600_000).toISOString());
    damageAnEventsPage(file);
    expectDamage(await runCli(['resume', '--db', file]), /integrity check of the whole file/);
  }, cliLimit(1));
});
