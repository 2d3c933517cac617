import { ALPHA_FROM, KmsRecoverError, type AlphaFrom } from '../errors/index.js';
import type { FolderIdentity, LedgerEntry, Manifest, ManifestFile } from '../domain/index.js';
import type { Statement, Transaction } from 'better-sqlite3';
import type { Db } from './open-database.js';
import { translatingDatabaseErrors } from './database-errors.js';
import { leaseLost, type LeaseRecord } from './run-lease.js';
import { redactDetail } from './redact-detail.js';
import type { CloseEvent, NoteEvent } from './run-events.js';
import { parseContext, parseOptions, parseParams, parsePhase, parseState, parseStepError, type RunContext, type RunOptions, type RunParams, type RunPhase } from './run-record.js';
import type { StepError } from '../machines/recovery.types.js';
import { isStepName, type RecoveryState, type StepName } from '../machines/recovery.order.js';

/** What a run is, as stored in its row. */
interface RunFields {
  id: string;
  host: string;
  machineVersion: number;
  definitionHash: string;
  adapter: string;
  adapterConfig: Record<string, unknown>;
  state: RecoveryState;
  phase: RunPhase;
  /** The snapshot as XState persisted it: restored by the driver (after any migration), read by nobody else. */
  snapshot: unknown;
  /** The server the run changes (its Kmsdata folder): at most one open run per server. */
  serverKey: string | null;
}

export interface NewRun extends RunFields {
  /** The service and the two folders the run works on (columns of `runs`). */
  params: Omit<RunParams, 'backupManifest'>;
  manifest: Manifest;
  /** The claim file taken beside Kmsdata, and the run the server's recovery record named before (if any). */
  claim: { claim: string; recoveredBefore: string | null };
  /** Step policies and manual steps chosen at start. */
  options?: RunOptions;
}

/** A run as `list` shows it: every field but the snapshot. */
export interface RunSummary extends Omit<RunFields, 'snapshot'> {
  params: RunParams;
  /**
   * When the run claimed the server, and the run named by the recovery record it found then
   * (that recovery is older than this run); null for a run from before claims were recorded.
   */
  claimTaken: { at: string; recoveredBefore: string | null } | null;
  options: RunOptions;
  createdAt: string;
  updatedAt: string;
  /** When the run was closed: its finish completed, or it was abandoned. Null while open. */
  closedAt: string | null;
  /** The current fencing generation (raised by every lease acquire and takeover). */
  fence: number;
}

export interface RunRecord extends RunSummary {
  snapshot: unknown;
  /** What the snapshot holds of the run (folders, service, facts, last error), parsed once. */
  context: RunContext;
}

/** The durable timers of a run's current step: absolute ISO times, so they survive a restart. */
export interface RunTimer {
  step: string;
  attempt: number;
  deadlineAt: string | null;
  nextAttemptAt: string | null;
}

export interface EventRecord {
  seq: number;
  event: string;
  from: string | null;
  to: string;
  at: string;
  detail: Record<string, unknown> | null;
}

/** One attempt of a step, as its row in `step_attempts` holds it. */
export interface StepAttemptRecord {
  step: StepName;
  attempt: number;
  startedAt: string;
  deadlineAt: string | null;
  /** When its done or error checkpoint ended it; null while under way, or cut off by a crash. */
  endedAt: string | null;
  outcome: 'done' | 'error' | null;
}

/** Files and bytes done of a long step's work (restore copy, verify, clear), as its driver last wrote them. */
export interface StepProgressRecord {
  step: string;
  attempt: number;
  /** `settle`: the start's settle window, files holding seconds watched of the window. */
  activity: 'copy' | 'verify' | 'clear' | 'settle';
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** When this activity of this attempt began (its first write). */
  startedAt: string;
  updatedAt: string;
}

export interface Checkpoint {
  snapshot: unknown;
  state: RecoveryState;
  phase: RunPhase;
  event: string;
  detail?: Record<string, unknown>;
}

interface RunRow {
  id: string; host: string; machine_version: number; definition_hash: string; adapter: string;
  adapter_config: string; state: string; phase: string; snapshot: string; options: string; created_at: string; updated_at: string;
  server_key: string | null; closed_at: string | null; fence: number;
  service_name: string | null; kmsdata: string | null; backup: string | null; backup_files: number | null; backup_bytes: number | null;
  backup_digest: string | null; claimed_at: string | null; recovered_before: string | null;
}
interface LeaseColumns {
  lease_host: string | null; lease_pid: number | null; lease_process_start: string | null; lease_acquired_at: string | null;
  lease_heartbeat_at: string | null; lease_generation: number | null;
}
interface TimerColumns { timer_step: string | null; timer_attempt: number | null; timer_deadline_at: string | null; timer_next_attempt_at: string | null }
interface EventRow { seq: number; event: string; from_state: string | null; to_state: string; at: string; detail: string | null }

const now = () => new Date().toISOString();

/** What a store method was doing, in the words of a DB_IO or DB_FULL error; a read is `reading it`. */
const STORE_OPERATIONS: Readonly<Record<string, string>> = {
  createRun: 'creating the run', checkpoint: 'writing a checkpoint', beginStep: 'recording the start of a step',
  note: 'recording an event', recordProgress: 'recording the progress of a step', scheduleRetry: 'recording the next attempt',
  migrateDefinition: 'migrating the run\'s definition', updateOptions: 'recording the run\'s policy', close: 'closing the run',
  recordQuarantined: 'recording the quarantine ledger', assertFence: 'checking the run\'s lease',
};
const READING = 'reading it';

/**
 * What every reader gets: the store's queries, none of its writes. A run is written only through
 * its driver's FencedRun (every write carries the fencing token and is refused once the run was
 * taken over), and created once by createRun.
 */
export type RunQueries = Pick<RunStore, 'getRun' | 'latestUnfinishedRun' | 'openRunOfServer' | 'abandonedRunsOfServer' | 'latestRun' | 'runCount'
  | 'listRuns' | 'attempts' | 'timer' | 'progress' | 'attemptRecords' | 'startRequestedAt' | 'promotingIdentity' | 'quarantineLedger' | 'events' | 'manifest' | 'assertFence'>;

/**
 * All reads and writes of runs, their event log and their backup manifest. The writes take the
 * fencing token and are called by FencedRun alone (fenced-run.ts); readers hold RunQueries.
 */
export class RunStore {
  private readonly statements = new Map<string, Statement>();
  /** One transaction wrapper for every write: better-sqlite3 builds one per transaction() call (~5 µs, a tenth of a checkpoint's CPU). */
  private readonly transaction: Transaction<(work: () => unknown) => unknown>;

  constructor(private readonly db: Db) {
    this.transaction = db.transaction((work: () => unknown) => work());
    // Every SQLite error leaves a method as the tool's error naming the file and the operation.
    return translatingDatabaseErrors(this, db.name, STORE_OPERATIONS, READING);
  }

  /** Creates the run, its manifest and its first event in one transaction. */
  createRun(run: NewRun): void {
    const at = now();
    const insertManifest = this.db.prepare(
      'INSERT INTO backup_manifest (run_id, path, kind, size, sha256) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      const open = run.serverKey === null ? undefined : this.openRunOfServer(run.serverKey);
      if (open) {
        throw new KmsRecoverError('SERVER_CLAIMED',
          `this database already holds an open run of ${run.serverKey}: run ${open.id} (${open.state}); continue it with kms-recover resume ${open.id}, or end it with kms-recover abandon ${open.id}`,
          { runId: open.id, state: open.state, serverKey: run.serverKey });
      }
      this.db.prepare(`INSERT INTO runs (id, host, machine_version, definition_hash, adapter, adapter_config, state, phase, snapshot, options, created_at, updated_at, server_key,
          service_name, kmsdata, backup, backup_files, backup_bytes, backup_digest, claimed_at, recovered_before)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(run.id, run.host, run.machineVersion, run.definitionHash, run.adapter,
        JSON.stringify(run.adapterConfig), run.state, run.phase, JSON.stringify(run.snapshot), JSON.stringify(run.options ?? {}), at, at, run.serverKey,
        run.params.serviceName, run.params.kmsdata, run.params.backup, run.manifest.fileCount, run.manifest.totalBytes, run.manifest.digest, at, run.claim.recoveredBefore);
      for (const dir of run.manifest.dirs) insertManifest.run(run.id, dir, 'dir', null, null);
      for (const file of run.manifest.files) insertManifest.run(run.id, file.path, 'file', file.size, file.sha256);
      this.insertEvent(run.id, 'run.created', null, run.state, at, {
        backupFiles: run.manifest.fileCount, backupBytes: run.manifest.totalBytes, backupDigest: run.manifest.digest,
        ...(run.options?.computerName ? { computerName: run.options.computerName } : {}),
        ...(run.options?.originalName ? { originalName: run.options.originalName } : {}),
      });
      // The server's claim, taken just before: recorded with the run, in the same transaction.
      this.insertEvent(run.id, 'claim.taken', run.state, run.state, at, run.claim);
    }).immediate();
  }

  /** Finds a run by id or unique id prefix. */
  getRun(idOrPrefix: string): RunRecord {
    const exact = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(idOrPrefix) as RunRow | undefined;
    if (exact) return toRun(exact);
    const matches = this.db.prepare("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2")
      .all(`${idOrPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) as RunRow[];
    if (matches.length === 1) return toRun(matches[0]!);
    if (matches.length > 1) throw new KmsRecoverError('RUN_NOT_FOUND', `run id "${idOrPrefix}" is ambiguous: give more characters`, { runId: idOrPrefix });
    throw new KmsRecoverError('RUN_NOT_FOUND', `no run "${idOrPrefix}" in this database (kms-recover list shows the runs)`, { runId: idOrPrefix });
  }

  /** The newest run not yet closed: unfinished, or finished with its clean-up cut off. */
  latestUnfinishedRun(): RunRecord | null {
    const row = this.db.prepare('SELECT * FROM runs WHERE closed_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1').get() as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  /** The open run of a server, if any (the schema allows one). */
  openRunOfServer(serverKey: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE server_key = ? AND closed_at IS NULL').get(serverKey) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  /** Runs of a server that were abandoned: their per-run folders beside Kmsdata are known leftovers. */
  abandonedRunsOfServer(serverKey: string): RunRecord[] {
    return (this.db.prepare("SELECT * FROM runs WHERE server_key = ? AND phase = 'abandoned' ORDER BY created_at, id").all(serverKey) as RunRow[]).map(toRun);
  }

  latestRun(): RunRecord | null {
    const row = this.db.prepare('SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT 1').get() as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  /** How many runs the database holds. */
  runCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
  }

  /**
   * The runs, newest first (the `limit` newest, or all), without their snapshots, each with its
   * lease holder, its timer and the error it rests with: what the situation rule reads.
   */
  *listRuns(limit?: number): Generator<RunSummary & { lease: LeaseRecord | null; timer: RunTimer | null; lastError: StepError | null; alphaFrom: AlphaFrom | null }> {
    const rows = this.db.prepare(`SELECT r.id, r.host, r.machine_version, r.definition_hash, r.adapter, r.adapter_config, r.state, r.phase,
        r.options, r.created_at, r.updated_at, r.server_key, r.closed_at, r.fence, r.service_name, r.kmsdata, r.backup, r.backup_files, r.backup_bytes,
        r.backup_digest, r.claimed_at, r.recovered_before, json_extract(r.snapshot, '$.context.lastError') AS last_error,
        json_extract(r.snapshot, '$.context.facts.credential.source') AS alpha_from,
        l.host AS lease_host, l.pid AS lease_pid, l.process_start AS lease_process_start, l.acquired_at AS lease_acquired_at,
        l.heartbeat_at AS lease_heartbeat_at, l.generation AS lease_generation,
        t.step AS timer_step, t.attempt AS timer_attempt, t.deadline_at AS timer_deadline_at, t.next_attempt_at AS timer_next_attempt_at
      FROM runs r LEFT JOIN leases l ON l.run_id = r.id LEFT JOIN run_timers t ON t.run_id = r.id
      ORDER BY r.created_at DESC, r.id DESC LIMIT ?`).iterate(limit ?? -1) as IterableIterator<Omit<RunRow, 'snapshot'> & LeaseColumns & TimerColumns & { last_error: string | null; alpha_from: unknown }>;
    for (const row of rows) {
      const summary = toSummary(row);
      const lastError = row.last_error === null ? null : parseStepError(JSON.parse(row.last_error));
      const rest = { ...summary, lastError, alphaFrom: ALPHA_FROM.find((from) => from === row.alpha_from) ?? null };
      const timer = row.timer_step === null ? null
        : { step: row.timer_step, attempt: row.timer_attempt!, deadlineAt: row.timer_deadline_at, nextAttemptAt: row.timer_next_attempt_at };
      const lease = row.lease_host === null ? null
        : {
          host: row.lease_host, pid: row.lease_pid!, processStart: row.lease_process_start, acquiredAt: row.lease_acquired_at!,
          heartbeatAt: row.lease_heartbeat_at!, generation: row.lease_generation!,
        };
      yield { ...rest, lease, timer };
    }
  }

  /**
   * Writes the snapshot and the event that produced it in ONE transaction: after a crash the
   * database holds either both or neither.
   */
  checkpoint(runId: string, checkpoint: Checkpoint, token: number): number {
    const at = now();
    return this.immediately(() => {
      // The event first: its statement checks the fence and reads the state it leaves.
      const seq = this.fencedEvent(runId, token, checkpoint.event, at, checkpoint.detail, checkpoint.state);
      this.cached('UPDATE runs SET snapshot = ?, state = ?, phase = ?, updated_at = ? WHERE id = ?')
        .run(JSON.stringify(checkpoint.snapshot), checkpoint.state, checkpoint.phase, at, runId);
      // A step's done or error event ends its open attempt.
      const ended = /^xstate\.(done|error)\.actor\.(.+)$/.exec(checkpoint.event);
      if (ended) {
        this.cached(`UPDATE step_attempts SET ended_at = ?, outcome = ? WHERE run_id = ? AND step = ? AND ended_at IS NULL
          AND attempt = (SELECT max(attempt) FROM step_attempts WHERE run_id = ? AND step = ?)`).run(at, ended[1], runId, ended[2], runId, ended[2]);
      }
      return seq;
    });
  }

  /**
   * Write-ahead intent: records that `step` is about to touch the host, with its attempt number.
   * Refuses if the run's committed state is not `state`, so no side effect can run ahead of the
   * checkpoint that allows it.
   */
  beginStep(runId: string, state: string, step: string, timeoutMs: number | undefined, token: number, how: { verifying?: boolean } = {}): number {
    return this.db.transaction(() => {
      const run = this.current(runId, token);
      if (run.state !== state) {
        throw new KmsRecoverError('INTERNAL', `step ${step} was about to run in state ${state}, but run ${runId} is checkpointed at ${run?.state ?? 'nothing'}`, { runId, step });
      }
      const n = this.attempts(runId, step);
      // Verifying what the operator did spends no attempt: it is recorded as what it is.
      const attempt = how.verifying ? n : n + 1;
      const at = now();
      const deadlineAt = timeoutMs === undefined ? null : new Date(Date.parse(at) + timeoutMs).toISOString();
      // Who starts it (the lease holder of this token), for the record of who drove the run.
      const driver = this.cached('SELECT host, pid FROM leases WHERE run_id = ? AND generation = ?').get(runId, token) as { host: string; pid: number } | undefined;
      const seq = this.insertEvent(runId, how.verifying ? 'manual.verifying' : 'step.started', state, state, at, {
        step, attempt, ...(deadlineAt ? { deadlineAt } : {}), ...(driver ? { driver: { host: driver.host, pid: driver.pid } } : {}),
      });
      if (!how.verifying) {
        this.cached('INSERT INTO step_attempts (run_id, step, attempt, started_seq, started_at, deadline_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(runId, step, attempt, seq, at, deadlineAt);
      }
      this.db.prepare(`INSERT INTO run_timers (run_id, step, attempt, deadline_at, next_attempt_at) VALUES (?, ?, ?, ?, NULL)
        ON CONFLICT (run_id) DO UPDATE SET step = excluded.step, attempt = excluded.attempt, deadline_at = excluded.deadline_at, next_attempt_at = NULL`)
        .run(runId, step, attempt, deadlineAt);
      return attempt;
    }).immediate();
  }

  /** An event that does not change the state (lease taken over, drift seen). */
  note(runId: string, event: NoteEvent, detail: Record<string, unknown>, token: number): number {
    return this.immediately(() => {
      return this.fencedEvent(runId, token, event, now(), detail);
    });
  }

  /** How many times the tool started `step` in this run (the operator's steps verified after a confirm are not attempts). */
  attempts(runId: string, step: string): number {
    return (this.cached('SELECT count(*) AS n FROM step_attempts WHERE run_id = ? AND step = ?').get(runId, step) as { n: number }).n;
  }

  /** Every attempt of the run's steps, in order: when each began, its deadline, and when and how it ended (null: cut off or under way). */
  attemptRecords(runId: string): StepAttemptRecord[] {
    const rows = this.cached('SELECT step, attempt, started_at, deadline_at, ended_at, outcome FROM step_attempts WHERE run_id = ? ORDER BY started_seq').all(runId) as
      { step: string; attempt: number; started_at: string; deadline_at: string | null; ended_at: string | null; outcome: 'done' | 'error' | null }[];
    return rows.flatMap((r) => isStepName(r.step)
      ? [{ step: r.step, attempt: r.attempt, startedAt: r.started_at, deadlineAt: r.deadline_at, endedAt: r.ended_at, outcome: r.outcome }]
      : []);
  }

  /** When this run last asked the service to start (its errors count from then); null if it never did. */
  startRequestedAt(runId: string): string | null {
    return (this.cached('SELECT start_requested_at FROM runs WHERE id = ?').get(runId) as { start_requested_at: string | null } | undefined)?.start_requested_at ?? null;
  }

  /** The staging copy an interrupted restore was renaming into place (its identity), if any. */
  promotingIdentity(runId: string): FolderIdentity | null {
    const row = this.cached('SELECT promoting_dev, promoting_ino FROM runs WHERE id = ?').get(runId) as { promoting_dev: string | null; promoting_ino: string | null } | undefined;
    return row?.promoting_dev && row.promoting_ino ? { dev: row.promoting_dev, ino: row.promoting_ino } : null;
  }

  timer(runId: string): RunTimer | null {
    const row = this.db.prepare('SELECT step, attempt, deadline_at, next_attempt_at FROM run_timers WHERE run_id = ?').get(runId) as
      { step: string; attempt: number; deadline_at: string | null; next_attempt_at: string | null } | undefined;
    return row ? { step: row.step, attempt: row.attempt, deadlineAt: row.deadline_at, nextAttemptAt: row.next_attempt_at } : null;
  }

  /**
   * The progress of the step at work: one row per run, replaced by each write (the driver bounds
   * their rate). A new step, attempt or activity starts the row's clock again.
   */
  recordProgress(runId: string, progress: Omit<StepProgressRecord, 'startedAt' | 'updatedAt'>, token: number): void {
    this.immediately(() => {
      const at = now();
      // The fence is checked by the write's own statement: no row of runs with this token, no write.
      const written = this.cached(`INSERT INTO run_progress (run_id, step, attempt, activity, files_done, files_total, bytes_done, bytes_total, started_at, updated_at)
        SELECT id, @step, @attempt, @activity, @filesDone, @filesTotal, @bytesDone, @bytesTotal, @at, @at FROM runs WHERE id = @runId AND fence = @token
        ON CONFLICT (run_id) DO UPDATE SET
          started_at = CASE WHEN step = excluded.step AND attempt = excluded.attempt AND activity = excluded.activity THEN started_at ELSE excluded.started_at END,
          step = excluded.step, attempt = excluded.attempt, activity = excluded.activity, files_done = excluded.files_done,
          files_total = excluded.files_total, bytes_done = excluded.bytes_done, bytes_total = excluded.bytes_total, updated_at = excluded.updated_at`)
        .run({ runId, token, ...progress, at });
      if (written.changes === 0) this.current(runId, token);
    });
  }

  /** The run's latest progress row, if a long step ever wrote one. */
  progress(runId: string): StepProgressRecord | null {
    const row = this.cached('SELECT * FROM run_progress WHERE run_id = ?').get(runId) as
      { step: string; attempt: number; activity: StepProgressRecord['activity']; files_done: number; files_total: number; bytes_done: number; bytes_total: number; started_at: string; updated_at: string } | undefined;
    return row ? {
      step: row.step, attempt: row.attempt, activity: row.activity, filesDone: row.files_done, filesTotal: row.files_total,
      bytesDone: row.bytes_done, bytesTotal: row.bytes_total, startedAt: row.started_at, updatedAt: row.updated_at,
    } : null;
  }

  /** Records when the next automatic attempt of `step` is due, with its event, in one transaction. */
  scheduleRetry(runId: string, step: string, attempt: number, nextAttemptAt: string, detail: Record<string, unknown>, token: number): void {
    this.immediately(() => {
      this.fencedEvent(runId, token, 'retry.scheduled', now(), { step, attempt, nextAttemptAt, ...detail });
      this.db.prepare(`INSERT INTO run_timers (run_id, step, attempt, deadline_at, next_attempt_at) VALUES (?, ?, ?, NULL, ?)
        ON CONFLICT (run_id) DO UPDATE SET step = excluded.step, attempt = excluded.attempt, next_attempt_at = excluded.next_attempt_at`)
        .run(runId, step, attempt, nextAttemptAt);
    });
  }

  /** Replaces a run's snapshot after an explicit definition migration, with its event. */
  migrateDefinition(runId: string, to: { machineVersion: number; definitionHash: string; snapshot: unknown; phase: RunPhase }, detail: Record<string, unknown>, token: number): void {
    this.immediately(() => {
      this.fencedEvent(runId, token, 'definition.migrated', now(), detail);
      this.db.prepare('UPDATE runs SET machine_version = ?, definition_hash = ?, snapshot = ?, phase = ?, updated_at = ? WHERE id = ?')
        .run(to.machineVersion, to.definitionHash, JSON.stringify(to.snapshot), to.phase, now(), runId);
    });
  }

  /** Replaces a run's step policies and manual steps (resume --timeout ...), with its event. */
  updateOptions(runId: string, options: RunOptions, detail: Record<string, unknown>, token: number): void {
    this.immediately(() => {
      this.fencedEvent(runId, token, 'policy.changed', now(), detail);
      this.db.prepare('UPDATE runs SET options = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(options), now(), runId);
    });
  }

  /**
   * Closes a run: `abandoned` by the operator, or finished (its clean-up after `running` done).
   * A closed run is never driven again and no longer holds its server in this database. Its
   * lease goes in the same transaction: released after it, a kill in between left a dead
   * driver's lease on a finished run that no command would ever take over.
   */
  close(runId: string, how: { abandoned: boolean; event: CloseEvent; detail: Record<string, unknown> }, token: number): void {
    this.immediately(() => {
      const at = now();
      this.fencedEvent(runId, token, how.event, at, how.detail);
      this.db.prepare(`UPDATE runs SET closed_at = ?, updated_at = ?${how.abandoned ? ", phase = 'abandoned'" : ''} WHERE id = ? AND closed_at IS NULL`)
        .run(at, at, runId);
      this.cached('DELETE FROM leases WHERE run_id = ?').run(runId);
    });
  }

  /** The start is about to be asked for: when, as a column (the start's errors count from then), with its event. */
  recordStartRequested(runId: string, service: string, at: string, token: number): void {
    this.immediately(() => {
      this.fencedEvent(runId, token, 'service.start-requested', now(), { service, at });
      this.cached('UPDATE runs SET start_requested_at = ? WHERE id = ?').run(at, runId);
    });
  }

  /** A restore is about to rename its checked staging copy into place: its identity, as columns, with its event. */
  recordPromoting(runId: string, identity: FolderIdentity, token: number): void {
    this.immediately(() => {
      this.fencedEvent(runId, token, 'restore.promoting', now(), { identity });
      this.cached('UPDATE runs SET promoting_dev = ?, promoting_ino = ? WHERE id = ?').run(identity.dev, identity.ino, runId);
    });
  }

  /** Records entries about to be moved into the run's quarantine, in one transaction (before any move). */
  recordQuarantined(runId: string, entries: readonly LedgerEntry[], token: number): void {
    this.immediately(() => {
      this.current(runId, token);
      for (const entry of entries) this.cached(`INSERT INTO quarantine_ledger (run_id, stored_as, name, kind, size, sha256, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, stored_as) DO UPDATE SET name = excluded.name, kind = excluded.kind, size = excluded.size, sha256 = excluded.sha256, recorded_at = excluded.recorded_at`)
        .run(runId, entry.storedAs, entry.name, entry.kind, entry.size, entry.sha256, now());
    });
  }

  /** The run's quarantine ledger. */
  quarantineLedger(runId: string): LedgerEntry[] {
    const rows = this.db.prepare('SELECT stored_as, name, kind, size, sha256 FROM quarantine_ledger WHERE run_id = ? ORDER BY stored_as').all(runId) as
      { stored_as: string; name: string; kind: LedgerEntry['kind']; size: number; sha256: string | null }[];
    return rows.map((r) => ({ storedAs: r.stored_as, name: r.name, kind: r.kind, size: r.size, sha256: r.sha256 }));
  }

  /** Throws LEASE_LOST when `token` is no longer the run's fencing generation. Read-only. */
  assertFence(runId: string, token: number): void {
    this.current(runId, token);
  }

  events(runId: string): EventRecord[] {
    const rows = this.db.prepare('SELECT seq, event, from_state, to_state, at, detail FROM events WHERE run_id = ? ORDER BY seq').all(runId) as EventRow[];
    return rows.map((row) => ({
      seq: row.seq, event: row.event, from: row.from_state, to: row.to_state, at: row.at,
      detail: row.detail ? JSON.parse(row.detail) as Record<string, unknown> : null,
    }));
  }

  /** The backup manifest read and stored before any change. */
  manifest(runId: string): Manifest {
    const rows = this.db.prepare('SELECT path, kind, size, sha256 FROM backup_manifest WHERE run_id = ? ORDER BY path').all(runId) as
      { path: string; kind: 'file' | 'dir'; size: number | null; sha256: string | null }[];
    const created = this.db.prepare('SELECT backup_digest FROM runs WHERE id = ?').get(runId) as { backup_digest: string | null } | undefined;
    const files: ManifestFile[] = rows.filter((r) => r.kind === 'file').map((r) => ({ path: r.path, size: r.size!, sha256: r.sha256! }));
    const dirs = rows.filter((r) => r.kind === 'dir').map((r) => r.path);
    const digest = created?.backup_digest ?? '';
    return { files, dirs, fileCount: files.length, totalBytes: files.reduce((sum, f) => sum + f.size, 0), digest };
  }

  /** The run's committed state, after checking a driver's fencing token when one is given. */
  private current(runId: string, token: number | null): { state: string; fence: number } {
    const row = this.cached('SELECT state, fence FROM runs WHERE id = ?').get(runId) as { state: string; fence: number } | undefined;
    if (!row) throw new KmsRecoverError('RUN_NOT_FOUND', `no run "${runId}" in this database`, { runId });
    if (token !== null && row.fence !== token) {
      const holder = this.cached('SELECT host, pid, process_start, acquired_at, heartbeat_at, generation FROM leases WHERE run_id = ?').get(runId) as
        { host: string; pid: number; process_start: string | null; acquired_at: string; heartbeat_at: string; generation: number } | undefined;
      throw leaseLost(runId, token, row, holder ? {
        host: holder.host, pid: holder.pid, processStart: holder.process_start, acquiredAt: holder.acquired_at,
        heartbeatAt: holder.heartbeat_at, generation: holder.generation,
      } : null);
    }
    return row;
  }

  /**
   * Appends an event to a driver's run in ONE statement that also checks its fencing token: the
   * row is written only while `token` is the run's generation, with the run's committed state as
   * its from-state (and its to-state, unless `to` is given). No row: LEASE_LOST (or
   * RUN_NOT_FOUND), in the words of current(). Called inside the write's IMMEDIATE transaction,
   * so the sequence number read just before is still the next one when the row is written. (The
   * number is read by its own statement: an INSERT whose SELECT reads `events` itself makes
   * SQLite gather its rows in a temporary table first, and RETURNING another: ~5 µs of the
   * checkpoint's ~40 µs of CPU; bench/checkpoint.mjs.)
   */
  private fencedEvent(runId: string, token: number, event: string, at: string, detail: Record<string, unknown> | undefined, to?: string): number {
    const seq = this.nextSeq(runId);
    const written = this.cached(`INSERT INTO events (run_id, seq, event, from_state, to_state, at, detail)
        SELECT id, ?, ?, state, coalesce(?, state), ?, ? FROM runs WHERE id = ? AND fence = ?`)
      .run(seq, event, to ?? null, at, detail ? JSON.stringify(redactDetail(detail)) : null, runId, token);
    if (written.changes === 1) return seq;
    this.current(runId, token);
    throw new KmsRecoverError('INTERNAL', `run ${runId}: the event ${event} was not recorded, though its lease is current`, { runId, token });
  }

  private insertEvent(runId: string, event: string, from: string | null, to: string, at: string, detail?: Record<string, unknown>): number {
    const next = this.nextSeq(runId);
    this.cached('INSERT INTO events (run_id, seq, event, from_state, to_state, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(runId, next, event, from, to, at, detail ? JSON.stringify(redactDetail(detail)) : null);
    return next;
  }

  /** The run's next event number; only inside the write's transaction is it still the next when written. */
  private nextSeq(runId: string): number {
    return (this.cached('SELECT coalesce(max(seq), 0) + 1 AS next FROM events WHERE run_id = ?').get(runId) as { next: number }).next;
  }

  /** `work` in an IMMEDIATE transaction (the store's one wrapper). */
  private immediately<T>(work: () => T): T {
    return this.transaction.immediate(work) as T;
  }

  /**
   * The statements of every transition, compiled once per store: compiling them on each call
   * cost about as much CPU as the rest of a checkpoint (bench/checkpoint.mjs).
   */
  private cached(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function toSummary(row: Omit<RunRow, 'snapshot'>): RunSummary {
  return {
    id: row.id, host: row.host, machineVersion: row.machine_version, definitionHash: row.definition_hash,
    adapter: row.adapter, adapterConfig: JSON.parse(row.adapter_config) as Record<string, unknown>,
    state: parseState(row.id, row.state), phase: parsePhase(row.id, row.phase),
    options: parseOptions(JSON.parse(row.options ?? '{}')),
    createdAt: row.created_at, updatedAt: row.updated_at,
    serverKey: row.server_key, closedAt: row.closed_at, fence: row.fence,
    params: parseParams(row.id, {
      serviceName: row.service_name, kmsdata: row.kmsdata, backup: row.backup,
      fileCount: row.backup_files, totalBytes: row.backup_bytes, digest: row.backup_digest,
    }),
    claimTaken: row.claimed_at === null ? null : { at: row.claimed_at, recoveredBefore: row.recovered_before },
  };
}

function toRun(row: RunRow): RunRecord {
  const snapshot: unknown = JSON.parse(row.snapshot);
  const context = parseContext(row.id, snapshot);
  return { ...toSummary(row), snapshot, context };
}
