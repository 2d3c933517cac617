import fs from 'node:fs';
import Database from 'better-sqlite3';
import { WAIT_MS } from './time-limit.js';

/**
 * Resolves as soon as `check` holds, looked at every `everyMs` (a check that throws counts as
 * not yet: a database being created, a file half-written); rejects naming `what` after
 * `timeoutMs`. For what the tests cannot be told of directly: another process's file or row.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, { timeoutMs = WAIT_MS, everyMs = 10 } = {}): Promise<void> {
  const end = Date.now() + timeoutMs;
  const holds = async () => {
    try {
      return await check();
    } catch {
      return false;
    }
  };
  while (!(await holds())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Whether a query on a kms-recover database another process writes returns a row (false while
 * the file or its schema does not exist yet). Read-write, as the event-log helpers: a reader
 * that finds a WAL must be able to use it.
 */
export function dbHas(dbFile: string, sql: string, ...params: unknown[]): boolean {
  if (!fs.existsSync(dbFile)) return false;
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    return db.prepare(sql).get(...params) !== undefined;
  } finally {
    db.close();
  }
}
