/**
 * Schema migrations, append-only: position in the list is the schema version (`PRAGMA
 * user_version`). Each one commits together with its version bump, so an interrupted upgrade
 * is never half-recorded. Never edit a released migration; add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // v1: runs, their append-only event log, the backup manifest read before any change, leases.
  `
  CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    host             TEXT NOT NULL,
    machine_version  INTEGER NOT NULL,
    definition_hash  TEXT NOT NULL,
    adapter          TEXT NOT NULL,
    adapter_config   TEXT NOT NULL,
    state            TEXT NOT NULL,
    phase            TEXT NOT NULL,
    snapshot         TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
  );
  CREATE INDEX runs_by_creation ON runs (created_at);
  CREATE INDEX runs_unfinished ON runs (phase, created_at) WHERE phase <> 'done';

  CREATE TABLE events (
    run_id      TEXT NOT NULL REFERENCES runs (id),
    seq         INTEGER NOT NULL,
    event       TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    at          TEXT NOT NULL,
    detail      TEXT,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
  CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

  CREATE TABLE backup_manifest (
    run_id  TEXT NOT NULL REFERENCES runs (id),
    path    TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('file', 'dir')),
    size    INTEGER,
    sha256  TEXT,
    PRIMARY KEY (run_id, path)
  ) WITHOUT ROWID;

  CREATE TABLE leases (
    run_id        TEXT PRIMARY KEY REFERENCES runs (id),
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    acquired_at   TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL
  );
  `,
  // v2: per-run options (step policies, manual steps) and durable timers: the current attempt's
  // deadline and the next automatic retry, as absolute times that survive a restart.
  `
  ALTER TABLE runs ADD COLUMN options TEXT NOT NULL DEFAULT '{}';

  -- "latest run" and "latest unfinished run" must not scan and sort every run.
  DROP INDEX runs_by_creation;
  DROP INDEX runs_unfinished;
  CREATE INDEX runs_by_creation_id ON runs (created_at, id);
  CREATE INDEX runs_unfinished_by_creation_id ON runs (created_at, id) WHERE phase <> 'done';

  CREATE TABLE run_timers (
    run_id           TEXT PRIMARY KEY REFERENCES runs (id),
    step             TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    deadline_at      TEXT,
    next_attempt_at  TEXT
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Marks the file as ours (`PRAGMA application_id`, ASCII "KMSR"), to tell it from another program's SQLite. */
export const APPLICATION_ID = 0x4b4d5352;
