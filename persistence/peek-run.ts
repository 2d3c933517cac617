import fs from 'node:fs';
import Database from 'better-sqlite3';

export type PeekedRun =
  | { found: true; state: string; phase: string; closedAt: string | null }
  | { found: false; why: 'no-database' | 'no-run' | 'unreadable' };

/**
 * What another database says of a run, for the message that names the run holding a server.
 * Opened read-only: looking never changes that database's runs.
 */
export function peekRun(dbPath: string, runId: string): PeekedRun {
  if (!fs.existsSync(dbPath)) return { found: false, why: 'no-database' };
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    const row = db.prepare('SELECT state, phase, closed_at FROM runs WHERE id = ?').get(runId) as
      { state: string; phase: string; closed_at: string | null } | undefined;
    return row ? { found: true, state: row.state, phase: row.phase, closedAt: row.closed_at } : { found: false, why: 'no-run' };
  } catch {
    return { found: false, why: 'unreadable' };
  } finally {
    db?.close();
  }
}
