import type { EventRecord } from '../../persistence/index.js';
import { printJson, printLine } from '../output.js';
import { openSession } from '../session.js';

export interface HistoryCommandOptions {
  db?: string;
  json?: boolean;
}

/** The full event log of a run, oldest first, exactly as stored (details are already redacted). */
export function historyCommand(runId: string, options: HistoryCommandOptions): void {
  const session = openSession(options.db, { mustExist: true });
  try {
    const run = session.store.getRun(runId);
    const events = session.store.events(run.id);
    if (options.json) {
      printJson({ runId: run.id, state: run.state, phase: run.phase, events });
      return;
    }
    printLine(`Run ${run.id}: ${events.length} events, now ${run.state} (${run.phase})`);
    const width = Math.max(5, ...events.map((e) => e.event.length)) + 2;
    const seqWidth = Math.max(3, String(events.at(-1)?.seq ?? 0).length) + 2;
    const moves = events.map(move);
    const moveWidth = Math.max(5, ...moves.map((m) => m.length)) + 2;
    printLine(`${'SEQ'.padEnd(seqWidth)}${'TIME'.padEnd(26)}${'EVENT'.padEnd(width)}${'STATE'.padEnd(moveWidth)}DETAIL`);
    events.forEach((e, i) => {
      printLine(`${String(e.seq).padEnd(seqWidth)}${e.at.padEnd(26)}${e.event.padEnd(width)}${moves[i]!.padEnd(moveWidth)}${describe(e)}`.trimEnd());
    });
  } finally {
    session.close();
  }
}

function move(e: EventRecord): string {
  if (e.from === null) return `-> ${e.to}`;
  const phase = typeof e.detail?.phase === 'string' ? e.detail.phase : null;
  const to = phase && phase !== 'working' && phase !== 'done' ? `${e.to} (${phase})` : e.to;
  return e.from === e.to && phase === null ? `(${e.to})` : `${e.from} -> ${to}`;
}

/** The detail as `key=value` pairs; an error shows as its code and message. */
function describe(e: EventRecord): string {
  if (!e.detail) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(e.detail)) {
    if (key === 'phase') continue;
    if (key === 'error' && value && typeof value === 'object') {
      const err = value as { code?: unknown; message?: unknown };
      parts.push(`error=${String(err.code)}: ${String(err.message)}`);
    } else if (value && typeof value === 'object') {
      parts.push(`${key}=${JSON.stringify(value)}`);
    } else parts.push(`${key}=${String(value)}`);
  }
  return parts.join('  ');
}
