import type { RunSituation } from '../domain/index.js';
import { ALPHA_FROM, type AlphaFrom, type ErrorRecord } from '../errors/index.js';
// The plain data modules, not machines/index.js: that one loads the machine and XState's runtime,
// which `status` never uses (bench/cold-start.mjs).
import { KB_STEPS } from '../machines/recovery.kb-steps.js';
import { isStepName, nextStateOf, orderOf, RECOVERY_STATES, stepInto, stepOf, type RecoveryState, type StepName } from '../machines/recovery.order.js';
import type { EventRecord, LeaseRecord, RunRecord, RunTimer, StepProgressRecord } from '../persistence/index.js';
import type { ServerClaimView } from './claim-rule.js';
import type { DriverView, Liveness } from './lease-policy.js';
import { driveArgs, standingOf } from './run-situation.js';
import type { WaitingFor } from '../present/next-words.js';
import { STALL_MS, workRate, type WorkActivity } from './work-progress.js';
import { settleSecondsOf } from './settle-window.js';
import { takenOverLiveness } from '../present/event-words.js';

export type { RunSituation } from '../domain/index.js';

import type { StepProgress } from '../present/step-marks.js';
export type { StepProgress } from '../present/step-marks.js';

export interface StepStatus {
  state: RecoveryState;
  kbSteps: string;
  /** When the state was first reached (null: not yet). */
  reachedAt: string | null;
  /** What reaching the state means, in the KB's words. */
  reached: string;
  /** The step whose success brings the run into this state (null for `reinstalled`: the operator's reinstall). */
  step: StepName | null;
  /** `done`: reached and not gone back; `working`/`waiting`/`failed`: the step that leads here is the run's current one (`waiting`: the operator's to do). */
  status: StepProgress;
  /** How many times the step was started (each `step.started`). */
  attempts: number;
  /** When the step was first started. */
  startedAt: string | null;
  /** When the run last entered this state (differs from reachedAt when it had to go back). */
  lastReachedAt: string | null;
  /** Time spent in the step's attempts that ended (started → done or error), in milliseconds. */
  durationMs: number | null;
}

export interface DriftEvent {
  seq: number;
  at: string;
  /** The step that found the service running although the run had stopped it. */
  step: string | null;
  service: string | null;
  serviceState: string | null;
}

export interface LeaseTakeover {
  seq: number;
  at: string;
  fromPid: number | null;
  fromHost: string | null;
  since: string | null;
  /** How the holder stood by the liveness rule: `dead`, or `unresponsive` (taken with the operator's confirmation). */
  liveness: 'dead' | 'unresponsive';
}


/** A long step's files and bytes, as its driver last wrote them, with the rate since it began. */
export interface RunProgress extends Omit<StepProgressRecord, 'activity'> {
  activity: WorkActivity;
  /** Bytes per second from startedAt to updatedAt (null: too early to tell). */
  bytesPerSecond: number | null;
  /** Time left at that rate, from updatedAt (null: unknown). */
  remainingMs: number | null;
  /** How long no progress was written although the run is driven: the work has stalled (recovery/work-progress.ts STALL_MS), and the screens say so instead of the time left; null while it moves, or nobody drives it. */
  stalledMs: number | null;
}

export interface RunStatus {
  runId: string;
  host: string;
  adapter: string;
  machineVersion: number;
  kmsdata: string | null;
  backup: string | null;
  state: string;
  /**
   * `working`, `waiting` (a manual step the administrator has to do; its lastError is
   * MANUAL_STEP_PENDING, or what the check of a confirm found not done), `failed`, `done`,
   * `abandoned`, as the machine rests.
   */
  phase: string;
  /** Where the run stands, in one word (see RunSituation). */
  situation: RunSituation;
  /** True when the run rests: nothing happens until someone acts (everything but working and retrying). */
  rests: boolean;
  /**
   * Who drives the run now: nobody, a live process, a dead one, or one without heartbeat
   * (`silent`); `liveness` is the liveness rule's word for the holder (null: nobody).
   */
  driver: { kind: DriverView['kind']; pid: number | null; host: string | null; since: string | null; silentMs: number | null; liveness: Liveness | null };
  /**
   * The server's claim as it stands now, for an open run (null once closed, or when it cannot be
   * read from here): this run's, another run's, none, and the record of a recovery by another run
   * since this one claimed the server. `superseded`: the server was recovered or claimed by
   * another run: this run will never touch it again (`next` names abandon).
   */
  server: ServerClaimView | null;
  /** The KB step(s) and the step the run is at (null once running). */
  current: { kbSteps: string; step: StepName } | null;
  /** A manual step waiting for the administrator: the KB's words once, and the one command that confirms it. */
  waitingFor: WaitingFor | null;
  /** The long step under way (or cut off): files and bytes done and in all; null when none. */
  progress: RunProgress | null;
  /** True once the run reached `running` (the KMS runs; see finishPending for its clean-up). */
  done: boolean;
  /** When the run was closed (its finish completed, or abandoned); null while open. */
  closedAt: string | null;
  /** The run reached `running` but the clean-up after it (quarantine, claim) was cut off: `resume` completes it. */
  finishPending: boolean;
  /** The run was ended on purpose (`kms-recover abandon`): who, when and why, from its event. */
  abandoned: { at: string; reason: string | null } | null;
  /** The lease's fencing generation: raised by every acquire and takeover. */
  leaseGeneration: number;
  /** Each of the six states with the time it was first reached (null: not yet), its step, attempts and duration. */
  steps: StepStatus[];
  /** Attempts per step name (only steps that were started). */
  attempts: Partial<Record<StepName, number>>;
  /** State changes, oldest first: the run's creation (from null), then every transition. */
  history: { from: string | null; to: string; at: string; event: string }[];
  /** The service found running again between steps (after a reboot, say) and stopped again. */
  drift: DriftEvent[];
  /** Leases taken over from a driver that had died. */
  takeovers: LeaseTakeover[];
  /** The error of the failed step the run rests in (with the step's name), else null. */
  lastError: (ErrorRecord & { step?: string }) | null;
  /** When that step failed. */
  lastErrorAt: string | null;
  /** What the operator does next, in the KB's words. */
  next: string | null;
  /** The exact command that goes on with this run, with what it needs on its line (the startup disk it was started with). */
  resumeCommand: string;
  lease: LeaseRecord | null;
  /**
   * The step the run is at: the deadline of its attempt under way (only while it is worked on) and
   * the next automatic retry, when one is scheduled (ISO times); null when neither (a previous
   * step's timer is not shown). `verifying`: the attempt is the check of what the operator did by
   * hand (it spends no attempt: `attempt` counts the tool's own).
   */
  timer: { step: string; attempt: number; deadlineAt: string | null; nextAttemptAt: string | null; verifying: boolean } | null;
  /** Steps the operator does by hand (`start --manual`). */
  manualSteps: string[];
  /** The target computer's name as the start checks found it (null: a run from before names were checked). */
  computerName: string | null;
  /** `--original-name`: the ORIGINAL server's name the target's had to equal (null: not given). */
  originalName: string | null;
  /** How long the started KMS must keep running before `running` (seconds). */
  settleSeconds: number;
  /** What the settle window proved once the run is running (recovery/settle-window.ts: seconds, pid, heldDatabase, restoredFile, databaseId); null before. */
  settled: Record<string, unknown> | null;
  /** Milliseconds from the run's creation to its last change (to `running` once done). */
  elapsedMs: number;
  eventCount: number;
  createdAt: string;
  updatedAt: string;
}

export function runStatus(run: RunRecord, events: EventRecord[], lease: LeaseRecord | null, timer: RunTimer | null = null, progress: StepProgressRecord | null = null, now: number = Date.now(), server: ServerClaimView | null = null): RunStatus {
  const history = events
    .filter((e) => e.from === null || e.from !== e.to)
    .map((e) => ({ from: e.from, to: e.to, at: e.at, event: e.event }));
  const firstReached = new Map<string, string>();
  const lastReached = new Map<string, string>();
  for (const h of history) {
    if (!firstReached.has(h.to)) firstReached.set(h.to, h.at);
    lastReached.set(h.to, h.at);
  }
  const context = run.context;
  const lastError = context.lastError;
  const failed = run.phase === 'failed';
  const waiting = run.phase === 'waiting';
  const done = run.phase === 'done';
  const manual = (run.options.manual ?? []).slice();
  const standing = standingOf({ id: run.id, state: run.state, phase: run.phase, closedAt: run.closedAt, manual, kmsdata: run.params.kmsdata, startupDisk: run.options.startupDisk ?? null, lastError, alphaFrom: alphaFromOf(context.facts) }, lease, timer, now, server);
  const { driver, situation, waitingFor } = standing;
  const currentStep = stepOf(run.state);
  const nextState = nextStateOf(run.state);
  const attempts = attemptsOf(events);
  const current = orderOf(run.state);

  const steps = RECOVERY_STATES.map((state, index): StepStatus => {
    const step = stepInto(state);
    const record = step ? attempts.get(step) : undefined;
    return {
      state,
      kbSteps: KB_STEPS[state].kbSteps,
      reachedAt: firstReached.get(state) ?? null,
      reached: KB_STEPS[state].reached,
      step,
      status: index <= current ? 'done' : index === current + 1 ? (waiting ? 'waiting' : failed ? 'failed' : 'working') : 'pending',
      attempts: record?.count ?? 0,
      startedAt: record?.firstStartedAt ?? null,
      lastReachedAt: lastReached.get(state) ?? null,
      durationMs: record && record.endedAttempts > 0 ? record.durationMs : null,
    };
  });

  return {
    runId: run.id,
    host: run.host,
    adapter: run.adapter,
    machineVersion: run.machineVersion,
    computerName: run.options.computerName ?? null,
    originalName: run.options.originalName ?? null,
    settleSeconds: settleSecondsOf(run.options),
    settled: done ? settledOf(context.facts) : null,
    kmsdata: run.params.kmsdata,
    backup: run.params.backup,
    state: run.state,
    phase: situation === 'waiting' ? 'waiting' : run.phase,
    situation,
    rests: standing.rests,
    driver: driverWords(driver),
    server: run.closedAt === null ? server : null,
    current: currentStep && nextState ? { kbSteps: KB_STEPS[nextState].kbSteps, step: currentStep } : null,
    waitingFor,
    progress: progressOf(progress, currentStep ?? null, situation, now),
    done,
    closedAt: run.closedAt,
    finishPending: done && run.closedAt === null,
    abandoned: abandonedOf(run, events),
    leaseGeneration: run.fence,
    steps,
    attempts: attemptCounts(attempts),
    history,
    drift: events.filter((e) => e.event.startsWith('drift.')).map((e) => ({
      seq: e.seq, at: e.at, step: str(e.detail?.step), service: str(e.detail?.service), serviceState: str(e.detail?.serviceState),
    })),
    takeovers: events.filter((e) => e.event === 'lease.taken-over').map((e) => ({
      seq: e.seq, at: e.at, fromPid: typeof e.detail?.fromPid === 'number' ? e.detail.fromPid : null,
      fromHost: str(e.detail?.fromHost), since: str(e.detail?.since),
      liveness: takenOverLiveness(e.detail ?? {}),
    })),
    lastError: standing.lastError,
    lastErrorAt: failed || waiting ? lastFailureAt(events) : null,
    next: standing.next,
    resumeCommand: `kms-recover resume ${run.id}${driveArgs({ manual, startupDisk: run.options.startupDisk ?? null })}`,
    lease,
    timer: timerOf(timer, currentStep ?? null, situation, events),
    manualSteps: manual,
    elapsedMs: Math.max(0, Date.parse(done ? lastReached.get('running') ?? run.updatedAt : run.updatedAt) - Date.parse(run.createdAt)),
    eventCount: events.length,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
}

function attemptCounts(attempts: Map<StepName, AttemptRecord>): Partial<Record<StepName, number>> {
  const counts: Partial<Record<StepName, number>> = {};
  for (const [step, record] of attempts) counts[step] = record.count;
  return counts;
}

interface AttemptRecord { count: number; firstStartedAt: string; durationMs: number; endedAttempts: number }

/**
 * Attempts per step from the write-ahead `step.started` events; an attempt ends at the step's
 * `xstate.done.actor.<step>` or `xstate.error.actor.<step>` checkpoint. An attempt cut off by a
 * crash has no end and adds no time.
 */
function attemptsOf(events: EventRecord[]): Map<StepName, AttemptRecord> {
  const out = new Map<StepName, AttemptRecord>();
  const open = new Map<StepName, string>();
  for (const e of events) {
    if (e.event === 'step.started') {
      const step = stepNamed(e.detail?.step);
      if (!step) continue;
      const record = out.get(step) ?? { count: 0, firstStartedAt: e.at, durationMs: 0, endedAttempts: 0 };
      record.count += 1;
      out.set(step, record);
      open.set(step, e.at);
      continue;
    }
    const ended = stepNamed(/^xstate\.(?:done|error)\.actor\.(.+)$/.exec(e.event)?.[1]);
    const startedAt = ended ? open.get(ended) : undefined;
    const record = ended ? out.get(ended) : undefined;
    if (ended && startedAt && record) {
      record.durationMs += Math.max(0, Date.parse(e.at) - Date.parse(startedAt));
      record.endedAttempts += 1;
      open.delete(ended);
    }
  }
  return out;
}

function abandonedOf(run: RunRecord, events: EventRecord[]): RunStatus['abandoned'] {
  if (run.phase !== 'abandoned') return null;
  const event = events.findLast((e) => e.event === 'run.abandoned');
  return { at: event?.at ?? run.closedAt ?? run.updatedAt, reason: str(event?.detail?.reason) };
}

function lastFailureAt(events: EventRecord[]): string | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.detail?.phase === 'failed' || e.detail?.phase === 'waiting') return e.at;
  }
  return null;
}

function stepNamed(value: unknown): StepName | null {
  return isStepName(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function driverWords(driver: DriverView): RunStatus['driver'] {
  if (driver.kind === 'nobody') return { kind: 'nobody', pid: null, host: null, since: null, silentMs: null, liveness: null };
  return {
    kind: driver.kind, pid: driver.lease.pid, host: driver.lease.host, since: driver.lease.acquiredAt,
    silentMs: driver.kind === 'silent' ? driver.silentMs : null,
    liveness: driver.kind === 'live' ? 'alive' : driver.kind === 'dead' ? 'dead' : 'unresponsive',
  };
}

/**
 * The progress row, when it belongs to the step the run is at (an older step's row is history):
 * while the run is driven, and, once it rests, only if the work was cut off before its end (what
 * it had done when it stopped: the driver writes it as it is interrupted). Work driven that wrote
 * nothing for STALL_MS has stalled: the screens give how long it has not moved, not a time left.
 */
function progressOf(row: StepProgressRecord | null, step: StepName | null, situation: RunSituation, now: number): RunProgress | null {
  if (!row || row.step !== step) return null;
  const driven = situation === 'working' || situation === 'retrying';
  if (!driven && (situation === 'finished' || situation === 'abandoned' || row.filesDone >= row.filesTotal)) return null;
  const elapsedMs = Math.max(0, Date.parse(row.updatedAt) - Date.parse(row.startedAt));
  const rate = workRate(row, elapsedMs, row.activity);
  const quietMs = Math.max(0, now - Date.parse(row.updatedAt));
  const stalledMs = situation === 'working' && row.filesDone < row.filesTotal && quietMs >= STALL_MS ? quietMs : null;
  return { ...row, ...rate, stalledMs };
}

/**
 * The timer of the step the run is at (a previous step's row is left until the next step begins):
 * its attempt's deadline only while the attempt is worked on (a scheduled retry's row still holds
 * the failed attempt's), and whether that attempt checks the operator's work.
 */
function timerOf(timer: RunTimer | null, step: StepName | null, situation: RunSituation, events: EventRecord[]): RunStatus['timer'] {
  if (!timer || timer.step !== step) return null;
  const deadlineAt = situation === 'working' && timer.nextAttemptAt === null ? timer.deadlineAt : null;
  if (!deadlineAt && !timer.nextAttemptAt) return null;
  const begun = events.findLast((e) => (e.event === 'step.started' || e.event === 'manual.verifying') && e.detail?.step === step);
  return { ...timer, deadlineAt, verifying: begun?.event === 'manual.verifying' };
}

/** The settle window's proof in the facts of `running`, as recorded. */
function settledOf(facts: Record<string, unknown>): Record<string, unknown> | null {
  const running = facts.running;
  if (typeof running !== 'object' || running === null) return null;
  const settle = (running as Record<string, unknown>).settle;
  return typeof settle === 'object' && settle !== null ? { ...settle } : null;
}

/** How the alpha string of the run's credential step was given (its facts), if it was. */
function alphaFromOf(facts: Record<string, unknown>): AlphaFrom | null {
  const credential = facts.credential;
  const source: unknown = typeof credential === 'object' && credential !== null ? Reflect.get(credential, 'source') : undefined;
  return ALPHA_FROM.find((from) => from === source) ?? null;
}
