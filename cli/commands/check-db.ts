import { formatBytes } from '../../present/byte-words.js';
import { printJson, printLine } from '../output.js';
import { openSession } from '../session.js';

/**
 * `check-db`: the whole database checked for damage now (`PRAGMA quick_check` of every table and
 * index), which other commands do only for the tables they read (a command that writes: the whole
 * file at most once a day). Leaves the file as found. Damage is DB_CORRUPT, thrown by the open.
 */
export function checkDbCommand(options: { db?: string; json?: boolean }): void {
  const session = openSession(options.db, { mustExist: true, integrity: 'full' });
  try {
    const checked = session.integrity;
    if (!checked) return;
    const seconds = checked.ms / 1000;
    const took = checked.ms < 1000 ? `${Math.max(1, Math.round(checked.ms))} ms` : `${seconds.toFixed(1)} s`;
    if (options.json) {
      printJson({ db: session.dbPath, ok: true, whole: checked.whole, tables: checked.tables, bytes: checked.bytes, seconds: Number(seconds.toFixed(3)) });
      return;
    }
    printLine(`${session.dbPath}: no damage found: every page of its ${checked.tables.length} tables and their indexes checked (${formatBytes(checked.bytes)}) in ${took}`);
  } finally {
    session.close();
  }
}
