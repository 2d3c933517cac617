import Database from 'better-sqlite3';

export interface EventRow { seq: number; event: string; from_state: string | null; to_state: string; at: string; detail: Record<string, unknown> | null }

/** The event log of the latest run in a database file (opened read-write: a killed writer's WAL may need recovery). */
export function eventRows(dbFile: string): EventRow[] {
  const db = new Database(dbFile, { fileMustExist: true });
  try {
    const run = db.prepare('SELECT id FROM runs ORDER BY created_at DESC LIMIT 1').get() as { id: string };
    return (db.prepare('SELECT seq, event, from_state, to_state, at, detail FROM events WHERE run_id = ? ORDER BY seq').all(run.id) as
      (Omit<EventRow, 'detail'> & { detail: string | null })[]).map((r) => ({ ...r, detail: r.detail ? JSON.parse(r.detail) as Record<string, unknown> : null }));
  } finally {
    db.close();
  }
}
