import { KmsRecoverError } from '../../errors/index.js';
import { runList } from '../../recovery/run-list.js';
import { printLine } from '../output.js';
import { printedStatus } from '../printed-commands.js';
import { openSession } from '../session.js';

/** The runs a plain `list` shows: the newest, enough for an outage; `--all` shows every one. */
const DEFAULT_PAGE = 20;

/**
 * Lists runs newest first, streaming: each row is printed as it is read, so a database of
 * thousands of runs costs what its first page costs (`list --json | head` stops reading early).
 */
export function listCommand(options: { db?: string; json?: boolean; all?: boolean; limit?: string }): void {
  const limit = options.all ? undefined : options.limit === undefined ? DEFAULT_PAGE : parseLimit(options.limit);
  const session = openSession(options.db, { mustExist: true });
  try {
    let shown = 0;
    let stale = false;
    if (options.json) process.stdout.write('[');
    for (const run of runList(session.store, limit)) {
      stale ||= run.stale;
      if (options.json) {
        // The same bytes as one pretty-printed array, written an element at a time.
        process.stdout.write(`${shown === 0 ? '\n' : ',\n'}${JSON.stringify(printedStatus(run), null, 2).replace(/^/gm, '  ')}`);
      } else {
        if (shown === 0) printLine(`${'RUN'.padEnd(10)}${'STATE'.padEnd(16)}${'SITUATION'.padEnd(14)}${'UPDATED'.padEnd(26)}DRIVEN BY`);
        printLine(`${run.runId.padEnd(10)}${run.state.padEnd(16)}${run.situation.padEnd(14)}${run.updatedAt.padEnd(26)}${run.driver}`);
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

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new KmsRecoverError('USAGE', `--limit takes a whole number of runs, at least 1, not "${value}"`);
  return n;
}
