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
  // v3: the server is the unit of safety. A run names the server it changes (server_key: its
  // Kmsdata folder) and is open until it is closed (finished or abandoned): at most one open run
  // per server, by the schema. Leases carry a fencing generation (runs.fence, raised by every
  // acquire and takeover) and the holder's process start time, so a reused pid is not "alive".
  // The quarantine ledger records what the clear moved aside.
  `
  ALTER TABLE runs ADD COLUMN server_key TEXT;
  ALTER TABLE runs ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN closed_at TEXT;
  ALTER TABLE leases ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE leases ADD COLUMN process_start TEXT;

  UPDATE runs SET server_key = CASE WHEN adapter = 'windows'
      THEN lower(json_extract(snapshot, '$.context.kmsdata')) ELSE json_extract(snapshot, '$.context.kmsdata') END;
  UPDATE runs SET closed_at = updated_at WHERE phase = 'done';

  -- Before v3 a second start on the same server was accepted. Of several open runs of one server
  -- only the newest may go on: the older ones are closed as abandoned, and their logs say why.
  CREATE TEMP TABLE superseded AS
    SELECT r.id, r.state FROM runs r WHERE r.closed_at IS NULL AND EXISTS (
      SELECT 1 FROM runs n WHERE n.server_key = r.server_key AND n.closed_at IS NULL AND (n.created_at, n.id) > (r.created_at, r.id));
  INSERT INTO events (run_id, seq, event, from_state, to_state, at, detail)
    SELECT s.id, (SELECT coalesce(max(seq), 0) + 1 FROM events WHERE run_id = s.id), 'run.abandoned', s.state, s.state,
      strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), json_object('by', 'schema upgrade to v3', 'reason', 'a newer run of the same server exists')
    FROM superseded s;
  UPDATE runs SET phase = 'abandoned', closed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id IN (SELECT id FROM superseded);
  DROP TABLE superseded;

  CREATE UNIQUE INDEX runs_one_open_per_server ON runs (server_key) WHERE closed_at IS NULL;

  -- The quarantine ledger: each entry moved out of Kmsdata, recorded before it is moved; at the
  -- finish only entries still exactly as recorded are deleted.
  CREATE TABLE quarantine_ledger (
    run_id       TEXT NOT NULL REFERENCES runs (id),
    stored_as    TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('file', 'dir', 'symlink', 'other')),
    size         INTEGER NOT NULL,
    sha256       TEXT,
    recorded_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, stored_as)
  ) WITHOUT ROWID;
  DROP INDEX runs_unfinished_by_creation_id;
  CREATE INDEX runs_open_by_creation_id ON runs (created_at, id) WHERE closed_at IS NULL;
  `,
  // v4: the progress of a long step (restore, verify, clear), written by its driver at a bounded
  // rate, so another console (status, watch) sees files and bytes done. One row per run: the
  // latest step's latest attempt; it is a view of work under way, not history (the events are).
  `
  CREATE TABLE run_progress (
    run_id       TEXT PRIMARY KEY REFERENCES runs (id),
    step         TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    activity     TEXT NOT NULL CHECK (activity IN ('copy', 'verify', 'clear')),
    files_done   INTEGER NOT NULL,
    files_total  INTEGER NOT NULL,
    bytes_done   INTEGER NOT NULL,
    bytes_total  INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
  );
  `,
  // v5: the start's settle window is shown as progress too (activity `settle`). SQLite cannot
  // change a CHECK: the table is made again. Its row is a view of work under way, not history.
  `
  DROP TABLE run_progress;
  CREATE TABLE run_progress (
    run_id       TEXT PRIMARY KEY REFERENCES runs (id),
    step         TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    activity     TEXT NOT NULL CHECK (activity IN ('copy', 'verify', 'clear', 'settle')),
    files_done   INTEGER NOT NULL,
    files_total  INTEGER NOT NULL,
    bytes_done   INTEGER NOT NULL,
    bytes_total  INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
  );
  `,
  // v6: typed records instead of facts read back from the event log or the machine's context.
  // - Waiting for the operator is a state of the machine (definition v5) and a phase of its own:
  //   a run the v4 definition left resting in `failed` at a manual step is `waiting` (its snapshot
  //   is migrated by the driver, recovery/stored-definition.ts).
  // - The run's parameters are columns of `runs` (service, Kmsdata, backup, the backup's
  //   manifest summary), and so are the facts a step reads back: when the start was asked for,
  //   the identity of the staging copy a restore is renaming into place, the recovery record the
  //   run found when it claimed the server.
  // - Each attempt of a step is a row of `step_attempts` (counted by it, ended by the step's done
  //   or error checkpoint), instead of a count of `step.started` events.
  // Existing rows are filled from the snapshot and the events, once, here.
  `
  UPDATE runs SET phase = 'waiting'
    WHERE phase = 'failed' AND json_extract(snapshot, '$.context.lastError.code') = 'MANUAL_STEP_PENDING';

  ALTER TABLE runs ADD COLUMN service_name TEXT;
  ALTER TABLE runs ADD COLUMN kmsdata TEXT;
  ALTER TABLE runs ADD COLUMN backup TEXT;
  ALTER TABLE runs ADD COLUMN backup_files INTEGER;
  ALTER TABLE runs ADD COLUMN backup_bytes INTEGER;
  ALTER TABLE runs ADD COLUMN backup_digest TEXT;
  ALTER TABLE runs ADD COLUMN claimed_at TEXT;
  ALTER TABLE runs ADD COLUMN recovered_before TEXT;
  ALTER TABLE runs ADD COLUMN start_requested_at TEXT;
  ALTER TABLE runs ADD COLUMN promoting_dev TEXT;
  ALTER TABLE runs ADD COLUMN promoting_ino TEXT;
  UPDATE runs SET
    service_name = json_extract(snapshot, '$.context.serviceName'),
    kmsdata = json_extract(snapshot, '$.context.kmsdata'),
    backup = json_extract(snapshot, '$.context.backup'),
    backup_files = json_extract(snapshot, '$.context.backupManifest.fileCount'),
    backup_bytes = json_extract(snapshot, '$.context.backupManifest.totalBytes'),
    backup_digest = json_extract(snapshot, '$.context.backupManifest.digest');
  UPDATE runs SET
    claimed_at = (SELECT at FROM events e WHERE e.run_id = runs.id AND e.event = 'claim.taken' ORDER BY seq DESC LIMIT 1),
    recovered_before = (SELECT json_extract(detail, '$.recoveredBefore') FROM events e WHERE e.run_id = runs.id AND e.event = 'claim.taken' ORDER BY seq DESC LIMIT 1),
    start_requested_at = (SELECT json_extract(detail, '$.at') FROM events e WHERE e.run_id = runs.id AND e.event = 'service.start-requested' ORDER BY seq DESC LIMIT 1),
    promoting_dev = (SELECT json_extract(detail, '$.identity.dev') FROM events e WHERE e.run_id = runs.id AND e.event = 'restore.promoting' ORDER BY seq DESC LIMIT 1),
    promoting_ino = (SELECT json_extract(detail, '$.identity.ino') FROM events e WHERE e.run_id = runs.id AND e.event = 'restore.promoting' ORDER BY seq DESC LIMIT 1);

  CREATE TABLE step_attempts (
    run_id       TEXT NOT NULL REFERENCES runs (id),
    step         TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    started_seq  INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    deadline_at  TEXT,
    ended_at     TEXT,
    outcome      TEXT CHECK (outcome IN ('done', 'error')),
    PRIMARY KEY (run_id, step, attempt)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO step_attempts (run_id, step, attempt, started_seq, started_at, deadline_at)
    SELECT run_id, json_extract(detail, '$.step'), json_extract(detail, '$.attempt'), seq, at, json_extract(detail, '$.deadlineAt')
    FROM events WHERE event = 'step.started' AND json_extract(detail, '$.step') IS NOT NULL AND json_extract(detail, '$.attempt') IS NOT NULL;
  -- An attempt ended at its step's first done or error checkpoint before the step's next start.
  UPDATE step_attempts SET (ended_at, outcome) = (
    SELECT e.at, CASE WHEN e.event LIKE 'xstate.done.%' THEN 'done' ELSE 'error' END FROM events e
    WHERE e.run_id = step_attempts.run_id AND e.seq > step_attempts.started_seq
      AND e.event IN ('xstate.done.actor.' || step_attempts.step, 'xstate.error.actor.' || step_attempts.step)
      AND e.seq < coalesce((SELECT min(n.started_seq) FROM step_attempts n WHERE n.run_id = step_attempts.run_id AND n.step = step_attempts.step AND n.attempt > step_attempts.attempt), 1e18)
    ORDER BY e.seq LIMIT 1);
  `,
  // v7: when the whole file was last checked for damage (PRAGMA quick_check of every table and
  // index). That check reads every page, so its cost grows with the history: a command that
  // writes runs it at most once a day, and records when here (one row; NULL: not since this
  // upgrade). A new database's first full check is its creation (set by openDatabase).
  `
  CREATE TABLE database_checks (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    full_checked_at  TEXT
  );
  INSERT INTO database_checks (id, full_checked_at) VALUES (1, NULL);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Marks the file as ours (`PRAGMA application_id`, ASCII "KMSR"), to tell it from another program's SQLite. */
export const APPLICATION_ID = 0x4b4d5352;
