import fs from 'node:fs';
import Database from 'better-sqlite3';

/** The six states of a run, in the order the KB reaches them. */
export const SIX_STATES = ['reinstalled', 'stopped', 'cleared', 'restored', 'credential-set', 'running'] as const;

export interface LoggedEvent {
  runId: string;
  seq: number;
  event: string;
  from: string | null;
  to: string;
  at: string;
  detail: string | null;
}

export interface LoggedLease {
  runId: string;
  host: string;
  pid: number;
}

export interface DbView {
  runs: { id: string; state: string; phase: string }[];
  events: LoggedEvent[];
  leases: LoggedLease[];
}

/**
 * Reads a kms-recover database (reads only; the test writes nothing into the file it checks):
 * runs, the whole event log in (run, seq) order, and the leases. Null if there is no database,
 * or it has no schema yet (a process killed while creating it).
 */
export function readDb(dbFile: string): DbView | null {
  if (!fs.existsSync(dbFile)) return null;
  // Not read-only: after a SIGKILL the WAL must be recovered, which a read-only connection cannot do.
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    if (!tables.includes('runs')) return null;
    const runs = db.prepare('SELECT id, state, phase FROM runs ORDER BY created_at, id').all() as DbView['runs'];
    const events = (db.prepare('SELECT run_id, seq, event, from_state, to_state, at, detail FROM events ORDER BY run_id, seq').all() as
      { run_id: string; seq: number; event: string; from_state: string | null; to_state: string; at: string; detail: string | null }[])
      .map((r) => ({ runId: r.run_id, seq: r.seq, event: r.event, from: r.from_state, to: r.to_state, at: r.at, detail: r.detail }));
    const leases = (db.prepare('SELECT run_id, host, pid FROM leases').all() as { run_id: string; host: string; pid: number }[])
      .map((l) => ({ runId: l.run_id, host: l.host, pid: l.pid }));
    return { runs, events, leases };
  } finally {
    db.close();
  }
}

/** The events of one run (seq order). */
export function eventsOf(view: DbView, runId: string): LoggedEvent[] {
  return view.events.filter((e) => e.runId === runId);
}

/** Events that change the run's state: the creation (from NULL) and every from <> to. */
export function stateChanges(events: readonly LoggedEvent[]): LoggedEvent[] {
  return events.filter((e) => e.from === null || e.from !== e.to);
}

/**
 * Problems with one run's event log, as readable strings (empty: all good):
 * seq is exactly 1..n; the first event is `run.created` from NULL; every state-changing event
 * goes forward (non-decreasing in the six states' order) and the last one reaches `running`;
 * each of the six states is reached; every from_state is a known state.
 */
export function eventLogProblems(events: readonly LoggedEvent[]): string[] {
  const problems: string[] = [];
  const seqs = events.map((e) => e.seq);
  const expected = events.map((_, i) => i + 1);
  if (seqs.join(',') !== expected.join(',')) problems.push(`seq is not 1..${events.length} without gaps: ${seqs.join(',')}`);
  const first = events[0];
  if (!first || first.event !== 'run.created' || first.from !== null || first.to !== 'reinstalled') {
    problems.push(`the first event is not run.created (NULL → reinstalled): ${JSON.stringify(first)}`);
  }
  const order = (s: string | null) => (s === null ? -1 : (SIX_STATES as readonly string[]).indexOf(s));
  for (const e of events) {
    if (order(e.to) < 0) problems.push(`seq ${e.seq} (${e.event}) goes to an unknown state ${e.to}`);
    if (e.from !== null && order(e.from) < 0) problems.push(`seq ${e.seq} (${e.event}) comes from an unknown state ${e.from}`);
    if (e.seq > 1 && e.from === null) problems.push(`seq ${e.seq} (${e.event}) has from_state NULL but is not the creation`);
  }
  const changes = stateChanges(events);
  for (let i = 1; i < changes.length; i++) {
    const a = changes[i - 1]!;
    const b = changes[i]!;
    if (order(b.to) < order(a.to)) problems.push(`state went backwards: seq ${a.seq} → ${a.to}, then seq ${b.seq} (${b.event}) → ${b.to}`);
    if (b.from !== a.to) problems.push(`seq ${b.seq} (${b.event}) starts from ${b.from}, but the previous change (seq ${a.seq}) ended at ${a.to}`);
  }
  const last = changes[changes.length - 1];
  if (last?.to !== 'running') problems.push(`the last state change ends at ${last?.to ?? 'nothing'}, not running`);
  const reached = new Set(changes.map((e) => e.to));
  const missing = SIX_STATES.filter((s) => !reached.has(s));
  if (missing.length) problems.push(`states never reached: ${missing.join(', ')}`);
  return problems;
}

/** A compact one-line-per-event dump for failure messages. */
export function describeEvents(events: readonly LoggedEvent[]): string {
  return events.map((e) => `${e.seq} ${e.event} ${e.from ?? 'NULL'}→${e.to}${e.detail ? ` ${e.detail}` : ''}`).join('\n');
}
