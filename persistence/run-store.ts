import { KmsRecoverError } from '../errors/index.js';
import type { Manifest, ManifestFile } from '../host/types.js';
import type { Db } from './open-database.js';
import { redactDetail } from './redact-detail.js';

export interface NewRun {
  id: string;
  host: string;
  machineVersion: number;
  definitionHash: string;
  adapter: string;
  adapterConfig: Record<string, unknown>;
  state: string;
  phase: string;
  snapshot: unknown;
  manifest: Manifest;
}

export interface RunRecord {
  id: string;
  host: string;
  machineVersion: number;
  definitionHash: string;
  adapter: string;
  adapterConfig: Record<string, unknown>;
  state: string;
  phase: string;
  snapshot: unknown;
  createdAt: string;
  updatedAt: string;
}

export interface EventRecord {
  seq: number;
  event: string;
  from: string | null;
  to: string;
  at: string;
  detail: Record<string, unknown> | null;
}

export interface Checkpoint {
  snapshot: unknown;
  state: string;
  phase: string;
  event: string;
  detail?: Record<string, unknown>;
}

interface RunRow {
  id: string; host: string; machine_version: number; definition_hash: string; adapter: string;
  adapter_config: string; state: string; phase: string; snapshot: string; created_at: string; updated_at: string;
}
interface EventRow { seq: number; event: string; from_state: string | null; to_state: string; at: string; detail: string | null }

const now = () => new Date().toISOString();

/** All reads and writes of runs, their event log and their backup manifest. */
export class RunStore {
  constructor(private readonly db: Db) {}

  /** Creates the run, its manifest and its first event in one transaction. */
  createRun(run: NewRun): void {
    const at = now();
    const insertManifest = this.db.prepare(
      'INSERT INTO backup_manifest (run_id, path, kind, size, sha256) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO runs (id, host, machine_version, definition_hash, adapter, adapter_config, state, phase, snapshot, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(run.id, run.host, run.machineVersion, run.definitionHash, run.adapter,
        JSON.stringify(run.adapterConfig), run.state, run.phase, JSON.stringify(run.snapshot), at, at);
      for (const dir of run.manifest.dirs) insertManifest.run(run.id, dir, 'dir', null, null);
      for (const file of run.manifest.files) insertManifest.run(run.id, file.path, 'file', file.size, file.sha256);
      this.insertEvent(run.id, 'run.created', null, run.state, at, {
        backupFiles: run.manifest.fileCount, backupBytes: run.manifest.totalBytes, backupDigest: run.manifest.digest,
      });
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

  latestUnfinishedRun(): RunRecord | null {
    const row = this.db.prepare("SELECT * FROM runs WHERE phase <> 'done' ORDER BY created_at DESC, id DESC LIMIT 1").get() as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  latestRun(): RunRecord | null {
    const row = this.db.prepare('SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT 1').get() as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  /** Every run, newest first, without their snapshots. */
  *listRuns(): Generator<Omit<RunRecord, 'snapshot'>> {
    const rows = this.db.prepare(`SELECT id, host, machine_version, definition_hash, adapter, adapter_config, state, phase, '""' AS snapshot, created_at, updated_at
      FROM runs ORDER BY created_at DESC, id DESC`).iterate() as IterableIterator<RunRow>;
    for (const row of rows) {
      const { snapshot: _unused, ...rest } = toRun(row);
      yield rest;
    }
  }

  /**
   * Writes the snapshot and the event that produced it in ONE transaction: after a crash the
   * database holds either both or neither.
   */
  checkpoint(runId: string, checkpoint: Checkpoint): number {
    const at = now();
    return this.db.transaction(() => {
      const previous = this.db.prepare('SELECT state FROM runs WHERE id = ?').get(runId) as { state: string } | undefined;
      if (!previous) throw new KmsRecoverError('RUN_NOT_FOUND', `no run "${runId}" in this database`, { runId });
      this.db.prepare('UPDATE runs SET snapshot = ?, state = ?, phase = ?, updated_at = ? WHERE id = ?')
        .run(JSON.stringify(checkpoint.snapshot), checkpoint.state, checkpoint.phase, at, runId);
      return this.insertEvent(runId, checkpoint.event, previous.state, checkpoint.state, at, checkpoint.detail);
    }).immediate();
  }

  /**
   * Write-ahead intent: records that `step` is about to touch the host, with its attempt number.
   * Refuses if the run's committed state is not `state`, so no side effect can run ahead of the
   * checkpoint that allows it.
   */
  beginStep(runId: string, state: string, step: string): number {
    return this.db.transaction(() => {
      const run = this.db.prepare('SELECT state FROM runs WHERE id = ?').get(runId) as { state: string } | undefined;
      if (!run || run.state !== state) {
        throw new KmsRecoverError('INTERNAL', `step ${step} was about to run in state ${state}, but run ${runId} is checkpointed at ${run?.state ?? 'nothing'}`, { runId, step });
      }
      const { n } = this.db.prepare("SELECT count(*) AS n FROM events WHERE run_id = ? AND event = 'step.started' AND json_extract(detail, '$.step') = ?")
        .get(runId, step) as { n: number };
      const attempt = n + 1;
      this.insertEvent(runId, 'step.started', state, state, now(), { step, attempt });
      return attempt;
    }).immediate();
  }

  /** An event that does not change the state (lease taken over, drift seen). */
  note(runId: string, event: string, detail: Record<string, unknown>): number {
    return this.db.transaction(() => {
      const run = this.db.prepare('SELECT state FROM runs WHERE id = ?').get(runId) as { state: string } | undefined;
      if (!run) throw new KmsRecoverError('RUN_NOT_FOUND', `no run "${runId}" in this database`, { runId });
      return this.insertEvent(runId, event, run.state, run.state, now(), detail);
    }).immediate();
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
    const created = this.db.prepare("SELECT detail FROM events WHERE run_id = ? AND event = 'run.created'").get(runId) as { detail: string } | undefined;
    const files: ManifestFile[] = rows.filter((r) => r.kind === 'file').map((r) => ({ path: r.path, size: r.size!, sha256: r.sha256! }));
    const dirs = rows.filter((r) => r.kind === 'dir').map((r) => r.path);
    const digest = created ? (JSON.parse(created.detail) as { backupDigest: string }).backupDigest : '';
    return { files, dirs, fileCount: files.length, totalBytes: files.reduce((sum, f) => sum + f.size, 0), digest };
  }

  private insertEvent(runId: string, event: string, from: string | null, to: string, at: string, detail?: Record<string, unknown>): number {
    const { next } = this.db.prepare('SELECT coalesce(max(seq), 0) + 1 AS next FROM events WHERE run_id = ?').get(runId) as { next: number };
    this.db.prepare('INSERT INTO events (run_id, seq, event, from_state, to_state, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(runId, next, event, from, to, at, detail ? JSON.stringify(redactDetail(detail)) : null);
    return next;
  }
}

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id, host: row.host, machineVersion: row.machine_version, definitionHash: row.definition_hash,
    adapter: row.adapter, adapterConfig: JSON.parse(row.adapter_config) as Record<string, unknown>,
    state: row.state, phase: row.phase, snapshot: JSON.parse(row.snapshot) as unknown,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}
