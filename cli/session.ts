import type { Logger } from 'pino';
import { currentProcess } from '../host/process-identity.js';
import type { LeaseHolder } from '../persistence/index.js';
import { databaseExists as databaseFileExists, openDatabase, RunLeases, RunStore, type Db } from '../persistence/index.js';
import { databasePath, logPathFor } from './database-location.js';

export interface Session {
  dbPath: string;
  db: Db;
  store: RunStore;
  leases: RunLeases;
  me: LeaseHolder;
  close(): void;
}

/** Opens the database a command works on. Read-only commands refuse to create one. */
export function openSession(dbOption: string | undefined, options: { mustExist?: boolean; forWriting?: boolean } = {}): Session {
  const dbPath = databasePath(dbOption);
  const busy = Number(process.env.KMS_RECOVER_BUSY_TIMEOUT_MS);
  const { db } = openDatabase(dbPath, {
    mustExist: options.mustExist, forWriting: options.forWriting, readOnly: options.mustExist === true && !options.forWriting, integrity: options.forWriting ? 'full' : 'runs', busyTimeoutMs: Number.isFinite(busy) && busy >= 0 ? busy : undefined,
  });
  return {
    dbPath, db, store: new RunStore(db), leases: new RunLeases(db), me: currentProcess(),
    close: () => db.close(),
  };
}

export function databaseExists(dbOption: string | undefined): boolean {
  return databaseFileExists(databasePath(dbOption));
}

/** The JSON-lines logger beside the database; loaded only by commands that change things. */
export async function openLogger(dbPath: string): Promise<Logger> {
  const { createFileLogger } = await import('./logger.js');
  return createFileLogger(logPathFor(dbPath));
}
