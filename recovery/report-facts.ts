import type { FolderIdentity, LedgerEntry, RunSituation } from '../domain/index.js';
import { KB_STEPS, kbLabel } from '../machines/recovery.kb-steps.js';
import { isStepName, type StepName } from '../machines/recovery.order.js';
import type { EventRecord, RunRecord, StepAttemptRecord } from '../persistence/index.js';
import type { RunStatus } from './run-status.js';
import { reportTimeline, type ReportTimeline } from './report-timeline.js';

/*
 * The facts of a run's incident report, gathered once from what the database recorded (the run's
 * row, its event log, its attempts, the clear's ledger) and the projection every screen reads
 * (runStatus). `report --format json` prints this record; the HTML and Markdown say the same
 * facts in words. Documented in README.md ("The recovery's record"); fields are added, never
 * renamed. Never the alpha string: the log never held it, and nothing here reads the startup disk.
 */

export interface ReportError {
  at: string;
  step: StepName | null;
  attempt: number | null;
  code: string;
  message: string;
}

export interface ReportAttempt {
  attempt: number;
  startedAt: string;
  endedAt: string | null;
  /** `done`, `error`, `cut-off` (its process ended before the step did), `under-way` (driven now). */
  outcome: 'done' | 'error' | 'cut-off' | 'under-way';
  deadlineAt: string | null;
  /** The process that started it, as recorded with the attempt (null: a run from before drivers were recorded). */
  driver: { host: string; pid: number } | null;
  error: ReportError | null;
}

export interface ReportStep {
  state: string;
  kbSteps: string;
  /** `KB step 4`. */
  kbLabel: string;
  /** What reaching the state means, in the KB's words. */
  reached: string;
  step: StepName | null;
  status: RunStatus['steps'][number]['status'];
  reachedAt: string | null;
  attempts: ReportAttempt[];
}

export interface ReportDriver {
  host: string;
  pid: number;
  firstAt: string;
  lastAt: string;
  /** How it came to drive the run: it started it, resumed it (the one before had stopped), or took it over. */
  how: 'started' | 'resumed' | 'took over';
}

export interface RunReport {
  reportVersion: 1;
  generatedAt: string;
  tool: { name: 'kms-recover'; version: string; machineVersion: number; definitionHash: string };
  run: {
    id: string;
    situation: RunSituation;
    state: string;
    phase: string;
    machineVersion: number;
    definitionHash: string;
    adapter: string;
    host: string;
    database: string;
    createdAt: string;
    updatedAt: string;
    closedAt: string | null;
    abandoned: { at: string; reason: string | null } | null;
    manualSteps: string[];
    eventCount: number;
  };
  outcome: {
    /** The run reached `running`: the KMS ran for the settle window on the restored database. */
    recovered: boolean;
    /** When it reached `running`. */
    recoveredAt: string | null;
    lastError: ReportError | null;
    /** What the operator does next (null: nothing). */
    next: string | null;
  };
  server: {
    computerName: string | null;
    originalName: string | null;
    serviceName: string;
    kmsdata: string;
    /** Kmsdata's identity pinned at the start (device and inode; on Windows volume serial and file ID). */
    kmsdataIdentity: FolderIdentity | null;
    claim: { file: string | null; takenAt: string | null; recoveredBefore: string | null };
  };
  backup: { folder: string; files: number; bytes: number; digest: string };
  restore: {
    at: string;
    files: number;
    bytes: number;
    digest: string;
    /** The restored tree's digest equals the backup manifest's, file by file. */
    matchesBackup: boolean;
    mismatches: string[];
    alreadyRestored: boolean;
    restoredIdentity: FolderIdentity | null;
  } | null;
  credential: { source: string; at: string } | null;
  settle: { seconds: number | null; pid: number | null; restoredFile: boolean | null; databaseId: string | null; startRequestedAt: string | null; runningAt: string | null } | null;
  clear: {
    quarantine: string | null;
    /** What the clear moved aside, as its ledger recorded each entry before moving it. */
    moved: LedgerEntry[];
    deleted: { at: string; count: number } | null;
    kept: { at: string; entries: string[]; reason: string } | null;
  };
  drift: { at: string; kind: 'service-running' | 'kmsdata'; step: string | null; detail: string }[];
  /**
   * Kmsdata found equal to the backup again, before a step that depends on it (the alpha string,
   * the start): `identity`, every file still the one the restore wrote; `contents`, every file hashed.
   */
  rechecks: { at: string; step: StepName | null; by: 'identity' | 'contents'; files: number }[];
  rewinds: { at: string; from: string; to: string }[];
  drivers: ReportDriver[];
  takeovers: RunStatus['takeovers'];
  errors: ReportError[];
  steps: ReportStep[];
  timeline: ReportTimeline;
}

export interface ReportInput {
  status: RunStatus;
  run: Pick<RunRecord, 'definitionHash' | 'params' | 'context' | 'claimTaken' | 'options'>;
  events: EventRecord[];
  attempts: StepAttemptRecord[];
  ledger: LedgerEntry[];
  tool: RunReport['tool'];
  database: string;
  generatedAt: string;
}

/** A step's name read from an event's detail, if it is one. */
function stepOrNull(value: unknown): StepName | null {
  return isStepName(value) ? value : null;
}

export function reportFacts(input: ReportInput): RunReport {
  const { status, run, events } = input;
  const errors = errorsOf(events);
  const steps = stepsOf(input, errors);
  const doneOf = (step: StepName) => events.findLast((e) => e.event === `xstate.done.actor.${step}`);
  const restoreDone = doneOf('restoreKmsdata');
  const credentialDone = doneOf('setCredential');
  const startDone = doneOf('startService');
  const clearDone = doneOf('clearKmsdata');
  const removed = events.findLast((e) => e.event === 'quarantine.removed');
  const kept = events.findLast((e) => e.event === 'quarantine.kept');
  const claimEvent = events.find((e) => e.event === 'claim.taken');
  const runningAt = status.steps.find((s) => s.state === 'running')?.reachedAt ?? null;
  return {
    reportVersion: 1,
    generatedAt: input.generatedAt,
    tool: input.tool,
    run: {
      id: status.runId, situation: status.situation, state: status.state, phase: status.phase,
      machineVersion: status.machineVersion, definitionHash: run.definitionHash, adapter: status.adapter, host: status.host,
      database: input.database, createdAt: status.createdAt, updatedAt: status.updatedAt, closedAt: status.closedAt,
      abandoned: status.abandoned, manualSteps: status.manualSteps, eventCount: status.eventCount,
    },
    outcome: {
      recovered: status.done, recoveredAt: status.done ? runningAt : null,
      lastError: status.lastError ? { at: status.lastErrorAt ?? status.updatedAt, step: isStepName(status.lastError.step) ? status.lastError.step : null, attempt: null, code: status.lastError.code, message: status.lastError.message } : null,
      next: status.next,
    },
    server: {
      computerName: status.computerName, originalName: status.originalName, serviceName: run.params.serviceName,
      kmsdata: run.params.kmsdata, kmsdataIdentity: run.context.kmsdataIdentity,
      claim: { file: str(claimEvent?.detail?.claim), takenAt: run.claimTaken?.at ?? null, recoveredBefore: run.claimTaken?.recoveredBefore ?? null },
    },
    backup: { folder: run.params.backup, files: run.params.backupManifest.fileCount, bytes: run.params.backupManifest.totalBytes, digest: run.params.backupManifest.digest },
    restore: restoreDone ? restoreOf(restoreDone, run.params.backupManifest.digest) : null,
    credential: credentialDone ? { source: str(obj(credentialDone.detail?.facts).source) ?? 'unknown', at: credentialDone.at } : null,
    settle: startDone ? settleOf(startDone, status.settled, events) : null,
    clear: {
      quarantine: str(obj(clearDone?.detail?.facts).quarantine),
      moved: input.ledger,
      deleted: removed ? { at: removed.at, count: num(removed.detail?.removed) ?? 0 } : null,
      kept: kept ? { at: kept.at, entries: strings(kept.detail?.kept), reason: str(kept.detail?.reason) ?? '' } : null,
    },
    drift: events.filter((e) => e.event.startsWith('drift.')).map((e) => ({
      at: e.at,
      kind: e.event === 'drift.kmsdata' ? 'kmsdata' as const : 'service-running' as const,
      step: str(e.detail?.step),
      detail: e.event === 'drift.kmsdata'
        ? strings(e.detail?.differences).join('; ')
        : `${str(e.detail?.service) ?? 'the service'} was ${str(e.detail?.serviceState) ?? 'running'}`,
    })),
    rechecks: events.filter((e) => e.event === 'kmsdata.checked').map((e) => ({
      at: e.at, step: stepOrNull(e.detail?.step), by: e.detail?.by === 'identity' ? 'identity' as const : 'contents' as const, files: num(e.detail?.files) ?? 0,
    })),
    rewinds: events.filter((e) => e.event === 'REWIND').map((e) => ({ at: e.at, from: str(e.detail?.from) ?? e.from ?? '?', to: str(e.detail?.to) ?? e.to })),
    drivers: driversOf(events),
    takeovers: status.takeovers,
    errors,
    steps,
    timeline: reportTimeline(status, events, input.attempts, input.generatedAt),
  };
}

/** Every failed attempt, in order, with the words it was recorded with (a manual step's wait is not an error). */
function errorsOf(events: EventRecord[]): ReportError[] {
  const attemptOf = new Map<string, number>();
  const out: ReportError[] = [];
  for (const e of events) {
    if (e.event === 'step.started') {
      const step = str(e.detail?.step);
      const attempt = num(e.detail?.attempt);
      if (step && attempt !== null) attemptOf.set(step, attempt);
      continue;
    }
    const failed = /^xstate\.error\.actor\.(.+)$/.exec(e.event)?.[1];
    if (!failed) continue;
    const error = obj(e.detail?.error);
    const code = str(error.code) ?? 'INTERNAL';
    if (code === 'MANUAL_STEP_PENDING') continue;
    out.push({ at: e.at, step: isStepName(failed) ? failed : null, attempt: attemptOf.get(failed) ?? null, code, message: str(error.message) ?? '' });
  }
  return out;
}

function stepsOf(input: ReportInput, errors: ReportError[]): ReportStep[] {
  const startedBy = new Map<string, { host: string; pid: number } | null>();
  for (const e of input.events) {
    if (e.event !== 'step.started') continue;
    const driver = obj(e.detail?.driver);
    const host = str(driver.host);
    const pid = num(driver.pid);
    startedBy.set(`${str(e.detail?.step)}#${num(e.detail?.attempt)}`, host && pid !== null ? { host, pid } : null);
  }
  const lastAttempt = new Map<StepName, number>();
  for (const a of input.attempts) lastAttempt.set(a.step, a.attempt);
  const driven = input.status.situation === 'working' || input.status.situation === 'retrying';
  return input.status.steps.map((s) => ({
    state: s.state, kbSteps: s.kbSteps, kbLabel: kbLabel(s.kbSteps), reached: KB_STEPS[s.state].reached,
    step: s.step, status: s.status, reachedAt: s.reachedAt,
    attempts: input.attempts.filter((a) => s.step !== null && a.step === s.step).map((a): ReportAttempt => ({
      attempt: a.attempt, startedAt: a.startedAt, endedAt: a.endedAt, deadlineAt: a.deadlineAt,
      outcome: a.outcome ?? (driven && input.status.current?.step === a.step && lastAttempt.get(a.step) === a.attempt ? 'under-way' : 'cut-off'),
      driver: startedBy.get(`${a.step}#${a.attempt}`) ?? null,
      error: a.outcome === 'error' ? errors.find((err) => err.step === a.step && err.attempt === a.attempt) ?? null : null,
    })),
  }));
}

function restoreOf(e: EventRecord, backupDigest: string): NonNullable<RunReport['restore']> {
  const f = obj(e.detail?.facts);
  const digest = str(f.digest) ?? '';
  const mismatches = strings(f.mismatches);
  return {
    at: e.at, files: num(f.fileCount) ?? 0, bytes: num(f.totalBytes) ?? 0, digest,
    matchesBackup: digest === backupDigest && mismatches.length === 0, mismatches,
    alreadyRestored: f.alreadyRestored === true, restoredIdentity: identity(f.identity),
  };
}

function settleOf(e: EventRecord, settled: Record<string, unknown> | null, events: EventRecord[]): NonNullable<RunReport['settle']> {
  const s = settled ?? obj(obj(e.detail?.facts).settle);
  const requested = events.findLast((r) => r.event === 'service.start-requested' && r.seq < e.seq);
  return {
    seconds: num(s.seconds), pid: num(s.pid), restoredFile: typeof s.restoredFile === 'boolean' ? s.restoredFile : null,
    databaseId: str(s.databaseId), startRequestedAt: requested?.at ?? null, runningAt: e.at,
  };
}

/**
 * Who drove the run, in order: each process that started an attempt (recorded with the attempt),
 * the run's creator first; a process that came after a takeover "took over", one that came after
 * another had stopped "resumed".
 */
function driversOf(events: EventRecord[]): ReportDriver[] {
  const out: ReportDriver[] = [];
  let takenOver = false;
  // The process driving now: what the run recorded until another came (or it was taken over) is its work.
  let current: ReportDriver | null = null;
  for (const e of events) {
    if (e.event === 'lease.taken-over') {
      takenOver = true;
      current = null;
    }
    const d = e.event === 'step.started' || e.event === 'manual.verifying' ? obj(e.detail?.driver) : {};
    const host = str(d.host);
    const pid = num(d.pid);
    if (host && pid !== null && !(current && current.host === host && current.pid === pid)) {
      const last = out.at(-1);
      current = last && last.host === host && last.pid === pid ? last
        : { host, pid, firstAt: e.at, lastAt: e.at, how: out.length === 0 ? 'started' : takenOver ? 'took over' : 'resumed' };
      if (current !== last) out.push(current);
      takenOver = false;
    }
    if (current) current.lastAt = e.at;
  }
  return out;
}

function identity(value: unknown): FolderIdentity | null {
  const v = obj(value);
  return typeof v.dev === 'string' && typeof v.ino === 'string' ? { dev: v.dev, ino: v.ino } : null;
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
