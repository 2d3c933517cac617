import type { EventRecord } from '../../persistence/index.js';
import { eventWords } from '../../present/event-words.js';
import { SITUATION_WORDS } from '../../present/situation-words.js';
import { loadRunView, namedOrLatestRun } from '../../recovery/run-view.js';
import { timesNote, timeWords } from '../../present/time-words.js';
import { wrap } from '../../present/wrap.js';
import { printJson, printLine, screenWidth } from '../output.js';
import { printed } from '../printed-commands.js';
import { openSession } from '../session.js';

export interface HistoryCommandOptions {
  db?: string;
  json?: boolean;
  utc?: boolean;
}

/**
 * The full event log of a run, oldest first: in words, local times, the offset said once in the
 * header (`--utc`: UTC); `--json` prints the events as stored (raw event types, ISO times, redacted details).
 */
export function historyCommand(runId: string | undefined, options: HistoryCommandOptions): void {
  const session = openSession(options.db, { mustExist: true });
  try {
    const run = namedOrLatestRun(session.store, runId, session.dbPath);
    const view = loadRunView(session, run);
    const events = session.store.events(run.id);
    if (options.json) {
      printJson({ runId: run.id, state: run.state, phase: run.phase, situation: view.situation, next: view.next === null ? null : printed(view.next), events });
      return;
    }
    // The header is the run as status tells it: its situation by the one rule, and what comes next.
    printLine(`Run ${run.id}: ${events.length} events; now at ${run.state}, ${SITUATION_WORDS[view.situation]}; ${timesNote(options)}`);
    for (const line of eventTable(events, options, screenWidth())) printLine(line);
  } finally {
    session.close();
  }
}

/** The narrowest column WHAT HAPPENED keeps beside the row; narrower, it goes under the row. */
const WHAT_MIN = 30;

/**
 * SEQ, TIME, STATE and WHAT HAPPENED, fitted to `width`: the words wrap in their column under
 * themselves, or, where the column would be too narrow, go under the row, indented.
 */
function eventTable(events: EventRecord[], options: { utc?: boolean }, width: number): string[] {
  const seqWidth = Math.max(3, String(events.at(-1)?.seq ?? 0).length) + 2;
  const times = events.map((e) => timeWords(e.at, options));
  const timeWidth = Math.max(4, ...times.map((t) => t.length)) + 2;
  const moves = events.map(move);
  const moveWidth = Math.max(5, ...moves.map((m) => m.length)) + 2;
  const column = seqWidth + timeWidth + moveWidth;
  const beside = width - column >= WHAT_MIN;
  const lines = [beside
    ? `${'SEQ'.padEnd(seqWidth)}${'TIME'.padEnd(timeWidth)}${'STATE'.padEnd(moveWidth)}WHAT HAPPENED`
    : `${'SEQ'.padEnd(seqWidth)}${'TIME'.padEnd(timeWidth)}STATE, then WHAT HAPPENED under it`];
  events.forEach((e, i) => {
    const row = `${String(e.seq).padEnd(seqWidth)}${times[i]!.padEnd(timeWidth)}${moves[i]!.padEnd(moveWidth)}`;
    if (beside) lines.push(...wrap(`${row}${eventWords(e)}`, width, column));
    else lines.push(row.trimEnd(), ...wrap(`${' '.repeat(seqWidth)}${eventWords(e)}`, width, seqWidth + 2));
  });
  return lines;
}

/** `cleared -> restored`, `(cleared)` for an event that did not move the run. */
function move(e: EventRecord): string {
  if (e.from === null) return `-> ${e.to}`;
  const phase = typeof e.detail?.phase === 'string' ? e.detail.phase : null;
  const to = phase && phase !== 'working' && phase !== 'done' ? `${e.to} (${phase})` : e.to;
  return e.from === e.to && phase === null ? `(${e.to})` : `${e.from} -> ${to}`;
}
