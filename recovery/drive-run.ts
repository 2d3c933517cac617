import { createActor, transition, type InspectionEvent, type Snapshot } from 'xstate';
import type { Logger } from 'pino';
import { KmsRecoverError, isRetryable, toErrorRecord, type ErrorRecord } from '../errors/index.js';
import { failPoint } from '../host/fail-point.js';
import type { Host } from '../host/types.js';
import { kbLabel, KB_STEPS } from '../machines/recovery.kb-steps.js';
import { RECOVERY_STATES } from '../machines/recovery.types.js';
import {
  MACHINE_VERSION, migrateSnapshot, positionOf, recoveryMachine, STEP_OF_STATE, type RecoveryPosition, type RecoverySnapshot, type RecoveryState,
} from '../machines/index.js';
import { FencedRun, type LeaseHolder, type LeaseRecord, type RunLeases, type RunRecord, type RunStore } from '../persistence/index.js';
import { databaseError } from '../persistence/index.js';
import type { AlphaString } from './alpha-string.js';
import { definitionHash } from './definition-hash.js';
import { finishRun } from './finish-run.js';
import type { ProgressSink } from './progress.js';
import { stepActors } from './step-actors.js';
import { backoffDelay, policyFor, type RunOptions } from './step-policy.js';
import { claimedBy } from './server-claim.js';

export interface DriveOptions {
  store: RunStore;
  leases: RunLeases;
  runId: string;
  host: Host;
  alpha: AlphaString | null;
  progress: ProgressSink;
  logger: Logger;
  me: LeaseHolder;
  isAlive: (holder: LeaseRecord) => boolean;
  /** The database file, named in the server's claim. */
  dbPath: string;
  heartbeatMs?: number;
  /** `resume --timeout/--attempts/--backoff`: new step policies, recorded before the drive. */
  policyChange?: { policies: NonNullable<RunOptions['policies']>; detail: Record<string, unknown> };
  /** `resume --from`: re-enter this earlier state (already confirmed by the operator) first. */
  rewindTo?: RecoveryState;
  rewindDetail?: Record<string, unknown>;
  /** Aborted by SIGINT or SIGTERM (its reason: the signal's name): the drive ends cleanly and says where. */
  interrupt?: AbortSignal;
}

export interface DriveOutcome extends RecoveryPosition {
  runId: string;
  lastError: ErrorRecord | null;
  /** The run had already reached `running`; this drive only completed its interrupted finish. */
  finishCompleted?: boolean;
}

/**
 * Drives a run from its last checkpoint until it is `running` or a step fails. Every snapshot
 * change is committed (snapshot + event, one transaction) before the next step can touch the
 * host. Restoring the snapshot restarts the step that was in flight at a crash (XState re-runs
 * active promise actors), so steps are idempotent; a run resting in a failed step is retried.
 */
export async function driveRun(options: DriveOptions): Promise<DriveOutcome> {
  const { store, leases, runId, progress } = options;
  const run = store.getRun(runId);
  assertOpen(run);
  if (run.phase !== 'done') assertDefinitionUsable(run);

  const { token, tookOverFrom } = leases.acquire(run.id, options.me, options.isAlive);
  const fenced = new FencedRun(store, run.id, token);
  // Ends the drive when the lease is lost (or the database fails): the steps' work stops at its
  // next file or poll, and no write of this driver is accepted any more.
  const lost = new AbortController();
  const heartbeat = setInterval(() => {
    try {
      if (!leases.heartbeat(run.id, token)) {
        fenced.assertCurrent(); // throws LEASE_LOST naming who took the run
        throw new KmsRecoverError('LEASE_LOST', `the lease of run ${run.id} is gone: this process stops without touching the server`, { runId: run.id });
      }
    } catch (error) {
      clearInterval(heartbeat);
      lost.abort(databaseError(error, options.dbPath));
    }
  }, options.heartbeatMs ?? 2000);
  heartbeat.unref();
  // An interrupt ends the drive the same way: the step stops at its next file or poll, nothing
  // more is written, and the lease is released below, so resume needs no takeover.
  const onInterrupt = () => {
    const error = interrupted(store.getRun(run.id), options.interrupt?.reason);
    options.logger.warn({ runId: run.id, state: error.detail.state, step: error.detail.step, signal: error.detail.signal }, 'interrupted');
    lost.abort(error);
  };
  if (options.interrupt?.aborted) onInterrupt();
  else options.interrupt?.addEventListener('abort', onInterrupt, { once: true });
  try {
    if (tookOverFrom) {
      fenced.note('lease.taken-over', { fromPid: tookOverFrom.pid, fromHost: tookOverFrom.host, since: tookOverFrom.acquiredAt, generation: token });
      progress.note(`took the run over from pid ${tookOverFrom.pid}, which is no longer running`);
    }
    if (run.phase === 'done') {
      // `running` was checkpointed, but the finish after it was cut off: complete it.
      await finishRun({ ...options, fenced, run });
      return { runId: run.id, state: 'running', phase: 'done', lastError: null, finishCompleted: true };
    }
    await holdServerClaim(options, run, fenced);
    if (run.machineVersion < MACHINE_VERSION) migrateDefinition(fenced, run);
    if (options.policyChange) changePolicies(fenced, run, options.policyChange);
    if (options.rewindTo) rewind(fenced, run, options.rewindTo, options.rewindDetail ?? {});
    const outcome = await driveActor(options, run, fenced, lost.signal);
    if (outcome.phase === 'done') await finishRun({ ...options, fenced, run: store.getRun(run.id) });
    return outcome;
  } finally {
    clearInterval(heartbeat);
    options.interrupt?.removeEventListener('abort', onInterrupt);
    try {
      leases.release(run.id, token);
    } catch {
      // A database that failed under the heartbeat may fail here too; the lease then goes stale.
    }
  }
}

/** `interrupted during KB step 4 (restoreKmsdata): nothing is lost; run kms-recover resume <id>`. */
function interrupted(run: RunRecord, reason: unknown): KmsRecoverError {
  const signal = reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
  const state = RECOVERY_STATES.find((s) => s === run.state);
  const step = state && state !== 'running' ? STEP_OF_STATE[state] : null;
  const next = state ? RECOVERY_STATES[RECOVERY_STATES.indexOf(state) + 1] : undefined;
  const where = step && next ? `${kbLabel(KB_STEPS[next].kbSteps)} (${step})` : 'its clean-up';
  return new KmsRecoverError(signal === 'SIGTERM' ? 'TERMINATED' : 'INTERRUPTED',
    `interrupted during ${where}: nothing is lost; run kms-recover resume ${run.id}`, { runId: run.id, state: run.state, step, signal });
}

/** A closed run (finished, or abandoned) is never driven again. */
function assertOpen(run: RunRecord): void {
  if (run.closedAt === null) return;
  if (run.phase === 'abandoned') {
    throw new KmsRecoverError('RUN_FINISHED', `run ${run.id} was abandoned at ${run.closedAt} (at ${run.state}); start a new run to recover this server`, { runId: run.id });
  }
  throw new KmsRecoverError('RUN_FINISHED', `run ${run.id} is already finished (state ${run.state}); nothing to resume`, { runId: run.id });
}

/**
 * The server must be claimed by this run before any step acts. A run from before claims existed
 * (or whose claim file was removed by hand) claims it again, atomically; a claim of another run
 * refuses the drive.
 */
async function holdServerClaim(options: DriveOptions, run: RunRecord, fenced: FencedRun): Promise<void> {
  const kmsdata = contextOf(run).kmsdata;
  const existing = await options.host.readServerClaim(kmsdata);
  if (existing?.holder?.runId === run.id) return;
  if (existing) throw claimedBy(existing.holder, existing.path, { store: options.store, dbPath: options.dbPath });
  fenced.assertCurrent();
  const claim = await options.host.claimServer(kmsdata, {
    runId: run.id, db: options.dbPath, host: options.me.host, pid: options.me.pid, processStart: options.me.processStart, claimedAt: new Date().toISOString(), kmsdata,
    ...(typeof run.adapterConfig.server === 'string' ? { server: run.adapterConfig.server } : {}),
  });
  if (!claim.claimed) throw claimedBy(claim.holder, claim.path, { store: options.store, dbPath: options.dbPath });
  fenced.note('claim.renewed', { claim: claim.path });
}

function contextOf(run: RunRecord): { kmsdata: string; serviceName: string } {
  return (run.snapshot as { context: { kmsdata: string; serviceName: string } }).context;
}

function changePolicies(fenced: FencedRun, run: RunRecord, change: NonNullable<DriveOptions['policyChange']>): void {
  const before = (run.options as RunOptions).policies ?? {};
  const after: NonNullable<RunOptions['policies']> = { ...before };
  for (const [step, policy] of Object.entries(change.policies) as [keyof typeof after, NonNullable<typeof after[keyof typeof after]>][]) {
    after[step] = { ...before[step], ...policy };
  }
  const options = { ...run.options, policies: after };
  fenced.updateOptions(options, { before, after, ...change.detail });
  run.options = options;
}

/** Restores the actor from the run's snapshot and runs it until it rests, committing every change. */
async function driveActor(options: DriveOptions, run: RunRecord, fenced: FencedRun, lost: AbortSignal): Promise<DriveOutcome> {
  const { store, logger, progress } = options;
  lost.throwIfAborted();
  const runOptions = run.options as RunOptions;
  let retryTimer: NodeJS.Timeout | undefined;
  const machine = recoveryMachine.provide({
    actors: stepActors({ runId: run.id, store, fenced, lost, host: options.host, alpha: options.alpha, progress, logger, options: runOptions }),
  });

  let lastWritten = JSON.stringify(run.snapshot);
  let stopping = false;
  let settle!: { resolve: (outcome: DriveOutcome) => void; reject: (error: unknown) => void };
  const settled = new Promise<DriveOutcome>((resolve, reject) => { settle = { resolve, reject }; });
  lost.addEventListener('abort', () => settle.reject(lost.reason), { once: true });

  const actor = restoreActor(() => createActor(machine, {
    snapshot: run.snapshot as Snapshot<unknown>,
    input: undefined as never, // the typings want it; XState ignores input when restoring a snapshot
    inspect: (inspection: InspectionEvent) => {
      if (inspection.type !== '@xstate.snapshot' || inspection.actorRef !== actor) return;
      // Stopping the actor at the end of this process is not a state of the run: never persist it.
      if (stopping || inspection.snapshot.status === 'stopped') return;
      try {
        const outcome = commit(inspection.snapshot as RecoverySnapshot, inspection.event);
        if (outcome) settle.resolve(outcome);
      } catch (error) {
        settle.reject(error);
      }
    },
  }), run.id);

  /** Commits one snapshot change; returns the outcome when the run comes to rest. */
  function commit(snapshot: RecoverySnapshot, event: { type: string; output?: unknown; error?: unknown }): DriveOutcome | null {
    const persisted = actor.getPersistedSnapshot();
    const json = JSON.stringify(persisted);
    if (json === lastWritten) return null;
    const position = positionOf(snapshot.value);
    const previous = positionOf(JSON.parse(lastWritten).value);
    fenced.checkpoint({
      snapshot: persisted, state: position.state, phase: position.phase, event: event.type,
      detail: eventDetail(event, position, snapshot),
    });
    lastWritten = json;
    failPoint(`after-checkpoint:${position.state}`);
    logger.info({ runId: run.id, event: event.type, from: previous.state, to: position.state, phase: position.phase }, 'checkpoint');
    if (position.state !== previous.state && position.phase !== 'failed') {
      progress.reached(position.state, factsOf(snapshot, position.state));
    }
    if (position.phase === 'failed') {
      const lastError = snapshot.context.lastError;
      if (lastError) {
        progress.stepFailed(position.state, lastError);
        logger.error({ runId: run.id, state: position.state, code: lastError.code, err: lastError.message }, 'step failed');
      }
    }
    if (position.phase === 'failed' && snapshot.context.lastError && scheduleRetry(position.state, snapshot.context.lastError)) {
      return null;
    }
    if (position.phase === 'failed' || snapshot.status === 'done') {
      return { runId: run.id, ...position, lastError: snapshot.context.lastError };
    }
    return null;
  }

  /**
   * A transient failure with attempts left: the next attempt's time is committed to SQLite
   * before the wait starts, so a process killed during the back-off resumes with what remains.
   */
  function scheduleRetry(state: RecoveryState, error: ErrorRecord): boolean {
    const code = error.code;
    // Work that could not be stopped must not have a retry running beside it: the process ends.
    if (state === 'running' || error.detail?.stuck === true) return false;
    const step = STEP_OF_STATE[state];
    const policy = policyFor(runOptions, step);
    const attempts = store.attempts(run.id, step);
    if (!isRetryable(code) || attempts >= policy.attempts) return false;
    const delayMs = backoffDelay(policy, attempts);
    const nextAttemptAt = new Date(Date.now() + delayMs).toISOString();
    fenced.scheduleRetry(step, attempts + 1, nextAttemptAt, { delayMs, after: code });
    logger.warn({ runId: run.id, step, attempt: attempts + 1, nextAttemptAt }, 'retry scheduled');
    progress.note(`retrying ${step} in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempts + 1} of ${policy.attempts})`);
    failPoint(`backoff-wait:${step}`);
    retryAt(nextAttemptAt);
    return true;
  }

  function retryAt(iso: string): void {
    retryTimer = setTimeout(() => actor.send({ type: 'RETRY' }), Math.max(0, Date.parse(iso) - Date.now()));
  }

  const subscription = actor.subscribe({ error: (error) => settle.reject(error) });
  try {
    actor.start();
    const resumedAt = positionOf(actor.getSnapshot().value);
    if (resumedAt.phase === 'failed') {
      // A back-off that was under way when the process stopped goes on with what remains of it.
      const timer = store.timer(run.id);
      const due = timer?.nextAttemptAt && resumedAt.state !== 'running' && timer.step === STEP_OF_STATE[resumedAt.state]
        ? timer.nextAttemptAt : null;
      if (due && Date.parse(due) > Date.now()) {
        progress.note(`waiting ${((Date.parse(due) - Date.now()) / 1000).toFixed(1)} s before retrying ${timer!.step} (attempt ${timer!.attempt}), as scheduled`);
        retryAt(due);
      } else {
        actor.send({ type: 'RETRY' });
      }
    }
    return await settled;
  } finally {
    clearTimeout(retryTimer);
    subscription.unsubscribe();
    stopping = true;
    actor.stop();
  }
}

/**
 * A run made by an older definition is migrated through the explicit steps in machines/; a
 * newer one, or the same version with another structure, is refused with what to do.
 */
function assertDefinitionUsable(run: RunRecord): void {
  if (run.machineVersion > MACHINE_VERSION) {
    throw new KmsRecoverError('DEFINITION_MISMATCH',
      `run ${run.id} was made by definition v${run.machineVersion}; this is v${MACHINE_VERSION}; finish it with the kms-recover that started it (or a newer one)`,
      { runId: run.id });
  }
  if (run.machineVersion < MACHINE_VERSION && migrateSnapshot(run.snapshot, run.machineVersion, MACHINE_VERSION) === null) {
    throw new KmsRecoverError('DEFINITION_MISMATCH',
      `run ${run.id} was made by definition v${run.machineVersion}; this is v${MACHINE_VERSION}; no migration exists between them: finish it with the kms-recover that started it`,
      { runId: run.id });
  }
  if (run.machineVersion === MACHINE_VERSION && run.definitionHash !== definitionHash()) {
    throw new KmsRecoverError('DEFINITION_MISMATCH',
      `run ${run.id} was made by definition v${run.machineVersion} (${run.definitionHash}); this is v${MACHINE_VERSION} (${definitionHash()}), changed without a version bump; finish it with the kms-recover that started it`,
      { runId: run.id });
  }
}

function migrateDefinition(fenced: FencedRun, run: RunRecord): void {
  const snapshot = migrateSnapshot(run.snapshot, run.machineVersion, MACHINE_VERSION);
  fenced.migrateDefinition({ machineVersion: MACHINE_VERSION, definitionHash: definitionHash(), snapshot },
    { fromVersion: run.machineVersion, toVersion: MACHINE_VERSION, fromHash: run.definitionHash });
  run.snapshot = snapshot;
  run.machineVersion = MACHINE_VERSION;
}

/**
 * `resume --from`: the REWIND is applied with XState's pure transition function, so the step
 * that was in flight is never started again here; the re-entered state's step starts when the
 * run is driven. The machine's guards only allow going back.
 */
function rewind(fenced: FencedRun, run: RunRecord, to: RecoveryState, detail: Record<string, unknown>): void {
  // Creating an actor from the snapshot (not starting it) only rebuilds the snapshot object.
  const current = restoreActor(() => createActor(recoveryMachine, { snapshot: run.snapshot as Snapshot<unknown>, input: undefined as never }), run.id).getSnapshot();
  const from = positionOf(current.value);
  const [next] = transition(recoveryMachine, current, { type: 'REWIND', to });
  const position = positionOf(next.value);
  if (position.state !== to) {
    throw new KmsRecoverError('REWIND_REFUSED', `run ${run.id} cannot go back from ${from.state} to ${to}: kms-recover only goes back to an earlier state, never forward past a guard`, { runId: run.id });
  }
  const persisted = recoveryMachine.getPersistedSnapshot(next);
  fenced.checkpoint({ snapshot: persisted, state: position.state, phase: position.phase, event: 'REWIND', detail: { from: from.state, to, ...detail } });
  run.snapshot = persisted;
}

/**
 * XState resolves a stored snapshot against today's state nodes and throws deep inside on a
 * name it does not know: turn that into a clear refusal.
 */
function restoreActor<T>(create: () => T, runId: string): T {
  try {
    return create();
  } catch (error) {
    throw new KmsRecoverError('DEFINITION_MISMATCH', `run ${runId} has a snapshot this definition cannot read (${(error as Error).message})`, { runId });
  }
}

function eventDetail(event: { type: string; output?: unknown; error?: unknown }, position: RecoveryPosition, snapshot: RecoverySnapshot): Record<string, unknown> {
  const detail: Record<string, unknown> = { phase: position.phase };
  if (event.output !== undefined) detail.facts = event.output;
  if (event.error !== undefined) detail.error = toErrorRecord(event.error);
  else if (position.phase === 'failed' && snapshot.context.lastError) detail.error = snapshot.context.lastError;
  return detail;
}

function factsOf(snapshot: RecoverySnapshot, state: RecoveryState): unknown {
  const facts = snapshot.context.facts;
  switch (state) {
    case 'stopped': return facts.stopped;
    case 'cleared': return facts.cleared;
    case 'restored': return facts.restored;
    case 'credential-set': return facts.credential;
    case 'running': return facts.running;
    default: return undefined;
  }
}
