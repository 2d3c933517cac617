import fs from 'node:fs';
import { APPLICATION_ID } from './migrations.js';
import { Database, type Db } from './open-database.js';
import { RunLeases } from './run-lease.js';

import type { LeaseRecord } from './run-lease.js';

export type PeekedRun =
  | { found: true; state: string; phase: string; closedAt: string | null; lease: LeaseRecord | null }
  | { found: false; why: 'no-database' | 'no-run' | 'unreadable' };

/**
 * What another database says of a run, for the message that names the run holding a server.
 * Opened read-only: looking never changes that database's runs.
 */
/**
 * Read-only first; a database whose writer was killed may need its WAL recovered, which only a
 * read-write connection does (it changes the WAL index, not the runs): then only if it is ours.
 */
function openForPeek(dbPath: string): Db {
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    db.prepare('SELECT 1 FROM runs LIMIT 1').get();
    return db;
  } catch {
    const db = new Database(dbPath, { fileMustExist: true });
    if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID) {
      db.close();
      throw new Error('not a kms-recover database');
    }
    return db;
  }
}

export function peekRun(dbPath: string, runId: string): PeekedRun {
  if (!fs.existsSync(dbPath)) return { found: false, why: 'no-database' };
  let db: Db | undefined;
  try {
    db = openForPeek(dbPath);
    const row = db.prepare('SELECT state, phase, closed_at FROM runs WHERE id = ?').get(runId) as
      { state: string; phase: string; closed_at: string | null } | undefined;
    if (!row) return { found: false, why: 'no-run' };
    const lease = new RunLeases(db).holder(runId);
    return { found: true, state: row.state, phase: row.phase, closedAt: row.closed_at, lease };
  } catch {
    return { found: false, why: 'unreadable' };
  } finally {
    db?.close();
  }
}
