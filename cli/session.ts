import path from 'node:path';
import type { Logger } from 'pino';
import { KmsRecoverError } from '../errors/index.js';
import { checkDatabaseFolder } from '../host/database-folder.js';
import { currentProcess } from '../host/process-identity.js';
// Each from its own module: persistence/index.ts would load every other one too (start-up time).
import { databaseExists as databaseFileExists, openDatabase, type Db, type IntegrityCheck, type IntegrityReport } from '../persistence/open-database.js';
import { RunLeases, type LeaseHolder } from '../persistence/run-lease.js';
import { RunStore } from '../persistence/run-store.js';
import { logPathFor, resolveDatabase, type DatabasePlace } from './database-location.js';

export interface Session {
  dbPath: string;
  db: Db;
  /** What the damage check on open read (null: the database was created by this open). */
  integrity: IntegrityReport | null;
  store: RunStore;
  leases: RunLeases;
  me: LeaseHolder;
  close(): void;
}

/**
 * Opens the database a command works on. Read-only commands refuse to create one (a missing
 * database is "no runs", naming where it was looked for); a command that writes first checks
 * the database's folder lets it write (the -wal and -shm are created beside the database).
 */
export function openSession(dbOption: string | undefined, options: { mustExist?: boolean; forWriting?: boolean; integrity?: IntegrityCheck } = {}): Session {
  const place = resolveDatabase(dbOption);
  const dbPath = place.path;
  if (options.mustExist && !databaseFileExists(dbPath)) throw noDatabase(place);
  if (options.forWriting) checkDatabaseFolder(path.dirname(dbPath), { create: false });
  const busy = Number(process.env.KMS_RECOVER_BUSY_TIMEOUT_MS);
  // The damage check is scoped to what commands read; a command that writes checks the whole
  // file at most once a day (recorded in the database); check-db asks for it (`full`).
  const { db, integrity } = openDatabase(dbPath, {
    mustExist: options.mustExist, forWriting: options.forWriting, readOnly: options.mustExist === true && !options.forWriting, integrity: options.integrity, busyTimeoutMs: Number.isFinite(busy) && busy >= 0 ? busy : undefined,
  });
  return {
    dbPath, db, integrity, store: new RunStore(db), leases: new RunLeases(db), me: currentProcess(),
    close: () => db.close(),
  };
}

/** No runs yet: where the database was looked for, and how another one is named. */
function noDatabase(place: DatabasePlace): KmsRecoverError {
  const where = place.origin === 'default'
    ? `no kms-recover database at ${place.path} (the default place) nor ${place.herePath}: no runs yet; a run started with --db or KMS_RECOVER_DB is read with the same option`
    : `no kms-recover database at ${place.path} (named by ${place.origin === 'option' ? '--db' : 'KMS_RECOVER_DB'}): no runs yet there; without it the default place is ${place.defaultPath}`;
  return new KmsRecoverError('RUN_NOT_FOUND', where, { db: place.path });
}

/**
 * `start`: the database's folder, checked before anything else (before the backup is read or
 * an alpha string asked for). The default place is created when missing (unless `dryRun`:
 * then nothing is made); a folder named by --db or KMS_RECOVER_DB must exist.
 */
export function prepareDatabaseFolder(dbOption: string | undefined, options: { dryRun?: boolean } = {}): DatabasePlace {
  const place = resolveDatabase(dbOption);
  const folder = path.dirname(place.path);
  const isDefault = place.origin === 'default';
  if (options.dryRun && isDefault && !databaseFileExists(folder)) return place;
  checkDatabaseFolder(folder, { create: isDefault });
  return place;
}

export function databaseExists(dbOption: string | undefined): boolean {
  return databaseFileExists(resolveDatabase(dbOption).path);
}

/** The JSON-lines logger beside the database; loaded only by commands that change things. */
export async function openLogger(dbPath: string): Promise<Logger> {
  const { createFileLogger } = await import('./logger.js');
  return createFileLogger(logPathFor(dbPath));
}
