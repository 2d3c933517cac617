import { KmsRecoverError } from '../../errors/index.js';
import { runList } from '../../recovery/run-list.js';
import { timesNote, timeWords } from '../../present/time-words.js';
import { wrap } from '../../present/wrap.js';
import { printLine, screenWidth } from '../output.js';
import { printedStatus } from '../printed-commands.js';
import { openSession } from '../session.js';

/** The runs a plain `list` shows: the newest, enough for an outage; `--all` shows every one. */
const DEFAULT_PAGE = 20;

/** The columns before DRIVEN BY: RUN, STATE, SITUATION, UPDATED (the widest of each, and two spaces). */
const COLUMNS = [10, 16, 14, 21] as const;
const DRIVER_AT = COLUMNS.reduce((a, b) => a + b, 0);
/** The narrowest DRIVEN BY column kept beside the row; narrower, it goes under the row. */
const DRIVER_MIN = 16;

/**
 * Lists runs newest first, streaming: each row is printed as it is read, so a database of
 * thousands of runs costs what its first page costs (`list --json | head` stops reading early).
 */
export function listCommand(options: { db?: string; json?: boolean; all?: boolean; limit?: string; utc?: boolean }): void {
  const limit = options.all ? undefined : options.limit === undefined ? DEFAULT_PAGE : parseLimit(options.limit);
  const session = openSession(options.db, { mustExist: true });
  try {
    let shown = 0;
    let stale = false;
    const width = screenWidth();
    if (options.json) process.stdout.write('[');
    for (const run of runList(session.store, limit)) {
      stale ||= run.stale;
      if (options.json) {
        // The same bytes as one pretty-printed array, written an element at a time.
        process.stdout.write(`${shown === 0 ? '\n' : ',\n'}${JSON.stringify(printedStatus(run), null, 2).replace(/^/gm, '  ')}`);
      } else {
        if (shown === 0) {
          printLine(`Runs, newest first; ${timesNote(options)}`);
          printLine(row(['RUN', 'STATE', 'SITUATION', 'UPDATED'], 'DRIVEN BY', width).join('\n'));
        }
        for (const line of row([run.runId, run.state, run.situation, timeWords(run.updatedAt, options)], run.driver, width)) printLine(line);
      }
      shown += 1;
    }
    if (options.json) {
      process.stdout.write(shown === 0 ? ']\n' : '\n]\n');
      return;
    }
    if (shown === 0) {
      printLine('No runs yet.');
      return;
    }
    if (limit !== undefined && shown === limit) {
      const total = session.store.runCount();
      if (total > shown) printLine(`(the ${shown} newest of ${total} runs; kms-recover list --all shows every one)`);
    }
    if (stale) printLine('A stale run can be resumed (dead holder on this host) or taken over: kms-recover takeover <run>');
  } finally {
    session.close();
  }
}

/** One row fitted to `width`: DRIVEN BY wraps in its column, or goes under the row where the column would be too narrow. */
function row(cells: string[], driver: string, width: number): string[] {
  const head = cells.map((cell, i) => cell.padEnd(COLUMNS[i] ?? 0)).join('');
  if (width - DRIVER_AT >= DRIVER_MIN) return wrap(`${head}${driver}`, width, DRIVER_AT);
  return [head.trimEnd(), ...wrap(`  ${driver}`, width, 4)];
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new KmsRecoverError('USAGE', `--limit takes a whole number of runs, at least 1, not "${value}"`);
  return n;
}
