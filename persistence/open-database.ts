import fs from 'node:fs';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { KmsRecoverError } from '../errors/index.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { databaseError } from './database-errors.js';

export type Db = BetterSqlite3.Database;

/**
 * The driver. better-sqlite3 is CommonJS: required as such, node does not load its CommonJS
 * lexer to find named exports for an ESM import (a few ms of every command's start).
 */
export const Database: typeof BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3');

export interface MigrationSummary {
  fromVersion: number;
  toVersion: number;
  applied: number;
}

export interface OpenOptions {
  /** Read-only commands (status, list) must not create a database where there is none. */
  mustExist?: boolean;
  /**
   * Read commands (status, list, history, diagram): leave every file as found. An empty file, a
   * file that is not SQLite, or another program's database is refused from its header bytes
   * before SQLite opens it (opening would roll back a hot journal or initialise the empty file);
   * an older schema is reported, not upgraded.
   */
  readOnly?: boolean;
  /** How long to wait for another writer before giving up (ms). */
  busyTimeoutMs?: number;
  /** Commands that will write check now that they can, so a locked database is refused up front. */
  forWriting?: boolean;
  /**
   * The damage check on open. Every connection has cell_size_check on: each page a query loads is
   * checked, so the rows a command reads (the run's own row, events, attempts) meet damage as
   * SQLITE_CORRUPT (said as DB_CORRUPT). On top: `scoped` (reading commands' default) checks the
   * tables whose size does not grow with the history (PER_OPEN_TABLES), so every command stays
   * flat in the store's size; `daily` (the default of a database opened to write) the same, and
   * the whole file when its last full check (recorded in the database) is a day old or more;
   * `full` the whole file now (`kms-recover check-db`).
   */
  integrity?: IntegrityCheck;
}

export type IntegrityCheck = 'scoped' | 'daily' | 'full';

/** What the damage check on open read, and how long it took. */
export interface IntegrityReport {
  /** The whole file (every table and index), or only the tables named. */
  whole: boolean;
  tables: readonly string[];
  /** The file's size as SQLite sees it (pages × page size). */
  bytes: number;
  ms: number;
}

/**
 * Checked whole on every open: leases (held only while a driver runs) and the one row of
 * database_checks. Not runs (13 MiB at 10,000 runs: its quick_check costs ~15 ms, a sixth of a
 * `status`), nor run_timers and run_progress (a row per run ever driven), nor events,
 * step_attempts, backup_manifest, quarantine_ledger: they grow with the history, and a command
 * reads only its run's rows of them, each page checked as it is loaded.
 */
const PER_OPEN_TABLES = ['leases', 'database_checks'] as const;

/** A database opened to write checks the whole file at most this often. */
export const FULL_CHECK_EVERY_MS = 24 * 60 * 60 * 1000;

/**
 * Opens (creating if allowed) the kms-recover database: WAL, synchronous=FULL so a committed
 * checkpoint survives a power loss, integrity checked, schema migrated. Every way a file can be
 * unusable becomes a one-line KmsRecoverError; the file itself is never modified in that case.
 */
export function openDatabase(file: string, options: OpenOptions = {}): { db: Db; migration: MigrationSummary; integrity: IntegrityReport | null } {
  const exists = fs.existsSync(file);
  if (!exists && options.mustExist) {
    throw new KmsRecoverError('RUN_NOT_FOUND', `no kms-recover database at ${file} (nothing was started here; use --db or KMS_RECOVER_DB)`, { db: file });
  }
  if (exists && fs.statSync(file).isDirectory()) {
    throw new KmsRecoverError('DB_FOREIGN', `${file} is a directory, not a kms-recover database`, { db: file });
  }
  if (exists && options.readOnly) assertOursByHeader(file);
  else if (exists) assertSqliteHeader(file);

  // A new database is created readable by its owner only; SQLite gives its -wal and -shm the
  // database file's permissions. (Windows: the folder's permissions, inherited.)
  if (!exists && !options.readOnly) createPrivately(file);
  let db: Db;
  try {
    db = new Database(file, { fileMustExist: exists });
  } catch (error) {
    throw databaseError(error, file, 'opening it');
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    // Every page a query loads has its cells checked against the page's bounds: a damaged page
    // of the rows a command reads is SQLITE_CORRUPT (DB_CORRUPT), not rows read from garbage
    // (SQLite otherwise bounds a bad cell pointer to its page and reads on). See OpenOptions.integrity.
    db.pragma('cell_size_check = ON');
    // A reader cannot record a full check, so it never runs one unless asked (check-db).
    const integrity = exists ? assertOurs(db, file, options.integrity ?? (options.readOnly ? 'scoped' : 'daily')) : null;
    if (options.readOnly) {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version < SCHEMA_VERSION) {
        throw new KmsRecoverError('DB_TOO_OLD',
          `${file} has schema version ${version}, made by an older kms-recover; reading commands leave it as it is: kms-recover resume upgrades it (to v${SCHEMA_VERSION}) and continues the run`,
          { db: file, version });
      }
      return { db, migration: { fromVersion: version, toVersion: version, applied: 0 }, integrity };
    }
    setWalMode(db, options.busyTimeoutMs ?? 5000);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const migration = migrate(db, file);
    // A new database is whole as created: that is its first full check.
    if (integrity === null || integrity.whole) recordFullCheck(db);
    if (options.forWriting) {
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
    }
    return { db, migration, integrity };
  } catch (error) {
    db.close();
    throw databaseError(error, file, 'opening it');
  }
}

/** Creates the empty file `0600` (SQLite initialises an empty file); one made meanwhile by another process is left as it is. */
function createPrivately(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw databaseError(Object.assign(new Error(`cannot create ${file}: ${(error as Error).message}`), { code: 'SQLITE_CANTOPEN' }), file);
  }
}

/**
 * `PRAGMA journal_mode = WAL` on a new file answers SQLITE_BUSY at once, without the busy
 * handler, while another process converts the same file (two `start`s creating one database):
 * wait and try again, as the busy timeout would, before giving up.
 */
function setWalMode(db: Db, busyTimeoutMs: number): void {
  const giveUpAt = Date.now() + busyTimeoutMs;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY') || Date.now() >= giveUpAt) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
    }
  }
}

function assertSqliteHeader(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(16);
    const read = fs.readSync(fd, header, 0, 16, 0);
    if (read === 0) return; // an empty file is a database SQLite will initialise
    if (read < 16 || header.toString('latin1') !== 'SQLite format 3\u0000') {
      throw new KmsRecoverError('DB_FOREIGN', `${file} is not a kms-recover database (not an SQLite file)`, { db: file });
    }
  } finally {
    fs.closeSync(fd);
  }
}


/** SQLite's header: bytes 60-63 hold user_version, 68-71 application_id (big-endian). */
function assertOursByHeader(file: string): void {
  // A new database of ours may still have its first pages only in its WAL (a writer killed before
  // any checkpoint leaves the file's header empty of our id): then SQLite must tell. The WAL is
  // looked for BEFORE the header is read: another reader's close may checkpoint the WAL into the
  // file and delete it at any moment, and a header read before that, checked against the WAL's
  // absence after it, read a database of ours as another program's (issue 24: `watch --json`
  // beside `status` on a run whose driver was killed). A checkpoint only ever writes our header.
  const hasWal = fs.existsSync(`${file}-wal`);
  const header = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  let read: number;
  try {
    read = fs.readSync(fd, header, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (read === 0 && !hasWal) {
    throw new KmsRecoverError('DB_FOREIGN', `${file} is an empty file, not a kms-recover database`, { db: file });
  }
  if (read === 0) return;
  if (read < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\u0000') {
    throw new KmsRecoverError('DB_FOREIGN', `${file} is not a kms-recover database (not an SQLite file)`, { db: file });
  }
  if (header.readUInt32BE(68) !== APPLICATION_ID && !hasWal) {
    throw new KmsRecoverError('DB_FOREIGN', `${file} is an SQLite database of another program, not of kms-recover`, { db: file });
  }
}

/**
 * Refuses a damaged file, another program's database or a newer schema. The damage check reads
 * the tables `integrity` asks for (see OpenOptions); a file without our runs table (new, empty or
 * another program's) is small and checked whole.
 */
function assertOurs(db: Db, file: string, integrity: IntegrityCheck): IntegrityReport {
  const started = performance.now();
  const present = new Set((db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
  const perOpen = PER_OPEN_TABLES.filter((t) => present.has(t));
  let whole = integrity === 'full' || !present.has('runs');
  if (!whole) {
    for (const table of perOpen) assertUndamaged(db, file, table);
    whole = integrity === 'daily' && fullCheckDue(db, present);
  }
  if (whole) assertUndamaged(db, file, null);
  const bytes = (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n;
  if (appId !== APPLICATION_ID && (tables > 0 || version !== 0)) {
    throw new KmsRecoverError('DB_FOREIGN', `${file} is an SQLite database of another program, not of kms-recover`, { db: file });
  }
  if (version > SCHEMA_VERSION) {
    throw new KmsRecoverError('DB_TOO_NEW', `${file} has schema version ${version}; this kms-recover knows up to ${SCHEMA_VERSION}: use a newer kms-recover`, { db: file, version });
  }
  return { whole, tables: whole ? [...present].sort() : perOpen, bytes, ms: performance.now() - started };
}

/** `PRAGMA quick_check` of one table and its indexes, or of the whole file (`table` null). */
function assertUndamaged(db: Db, file: string, table: string | null): void {
  const check = db.pragma(table === null ? 'quick_check' : `quick_check("${table}")`, { simple: true });
  if (check !== 'ok') {
    const of = table === null ? 'the whole file' : `table ${table}`;
    // SQLite lists every problem, one per line, often the same one cell after cell: the first says what it is.
    const problems = String(check).split('\n').map((line) => line.trim()).filter((line) => line && !/^\*\*\* in database \w+ \*\*\*$/.test(line));
    const found = problems.length > 1 ? `${problems[0]}, and ${problems.length - 1} more` : problems[0] ?? String(check);
    throw new KmsRecoverError('DB_CORRUPT', `${file} is damaged (integrity check of ${of}: ${found}); keep a copy and use another --db`, { db: file, problems: problems.slice(0, 20) });
  }
}

/** True when the whole file was never checked since schema v7, or its last full check is a day old (or in the future: the clock was set back). */
function fullCheckDue(db: Db, present: ReadonlySet<string>): boolean {
  if (!present.has('database_checks')) return true;
  const row = db.prepare('SELECT full_checked_at FROM database_checks WHERE id = 1').get() as { full_checked_at: string | null } | undefined;
  const age = Date.now() - Date.parse(row?.full_checked_at ?? '');
  return !(age >= 0 && age < FULL_CHECK_EVERY_MS);
}

function recordFullCheck(db: Db): void {
  db.prepare('UPDATE database_checks SET full_checked_at = ? WHERE id = 1').run(new Date().toISOString());
}

/**
 * Applies the migrations this file lacks. The version is read inside each migration's IMMEDIATE
 * transaction, so two processes creating the same new database at once never both apply one
 * (the second waits for the first, then finds the version already raised).
 */
function migrate(db: Db, file: string): MigrationSummary {
  const fromVersion = db.pragma('user_version', { simple: true }) as number;
  let version = fromVersion;
  for (;;) {
    const applied = db.transaction((): boolean => {
      version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new KmsRecoverError('DB_TOO_NEW', `${file} has schema version ${version}; this kms-recover knows up to ${SCHEMA_VERSION}: use a newer kms-recover`, { db: file });
      }
      if (version === SCHEMA_VERSION) return false;
      db.exec(MIGRATIONS[version]!);
      version += 1;
      db.pragma(`user_version = ${version}`);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      return true;
    }).immediate();
    if (!applied) break;
  }
  return { fromVersion, toVersion: version, applied: Math.max(0, version - fromVersion) };
}

/** Whether a database file is there at all (a new one is created only after the preflight). */
export function databaseExists(file: string): boolean {
  return fs.existsSync(file);
}
