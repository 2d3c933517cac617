import { setTimeout as sleep } from 'node:timers/promises';
import type { RunStatus } from '../../recovery/run-status.js';
import { timeWords } from '../../present/time-words.js';
import { printJson, printLine, screenWidth } from '../output.js';
import { wrap } from '../../present/wrap.js';
import { printEnding } from '../run-words.js';
import { openSession } from '../session.js';
import { checklistLines, headLines, workLines, type ScreenOptions } from '../status-screen.js';
import { loadRunView, namedOrLatestRun } from '../../recovery/run-view.js';

export interface WatchCommandOptions {
  db?: string;
  json?: boolean;
  utc?: boolean;
}

/** How often the database is read again. */
const POLL_MS = 500;

/**
 * A live checklist of a run, redrawn until it rests, from any console: it only reads the
 * database (opened read-only) and never touches the run. On a terminal the screen is redrawn in
 * place; elsewhere (a pipe, a log) each change is printed once. It ends with the outcome line
 * and exit status of `status` (0: the run was read; where it rests is in the line and in --json's
 * `situation`).
 */
export async function watchCommand(runId: string | undefined, options: WatchCommandOptions): Promise<void> {
  const session = openSession(options.db, { mustExist: true });
  try {
    const tty = process.stdout.isTTY === true && !options.json;
    let shown: string[] = [];
    let status: RunStatus = loadRunView(session, namedOrLatestRun(session.store, runId, session.dbPath));
    const id = status.runId;
    for (;;) {
      if (!options.json) shown = draw(status, shown, tty, options);
      if (status.rests) break;
      await sleep(POLL_MS);
      status = loadRunView(session, namedOrLatestRun(session.store, id, session.dbPath));
    }
    if (options.json) printJson(status);
    else {
      printLine();
      printEnding(status);
    }
  } finally {
    session.close();
  }
}

/** The screen of one look at the run; returns what is now shown. */
function draw(s: RunStatus, before: string[], tty: boolean, options: ScreenOptions): string[] {
  const screen = { ...options, width: screenWidth(), still: !tty };
  const body = [...headLines(s, screen), '', ...checklistLines(s, screen), '', ...workLines(s, screen)];
  if (tty) {
    const title = `kms-recover watch ${s.runId}: ${timeWords(new Date().toISOString(), options)} (Ctrl-C stops watching, not the run)`;
    const lines = [title, '', ...body].flatMap((line) => wrap(line, screen.width));
    process.stdout.write(`\u001b[H\u001b[2J${lines.join('\n')}\n`);
    return body;
  }
  // Not a terminal: the first screen whole, then only the lines that changed.
  const changed = before.length === 0 ? body : body.filter((line, i) => line !== '' && line !== before[i]);
  for (const line of changed) printLine(line);
  return body;
}
