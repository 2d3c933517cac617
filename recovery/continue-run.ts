import type { Logger } from 'pino';
import { KmsRecoverError } from '../errors/index.js';
import { createHost } from '../host/create-host.js';
import { KB_STEPS, withKmsdata } from '../machines/recovery.kb-steps.js';
import { isRecoveryState, RECOVERY_STATES, statesBefore, statesFrom, type RecoveryState, type StepName } from '../machines/recovery.order.js';
import { drivenBy, type LeaseHolder, type RunLeases, type RunOptions, type RunRecord, type RunStore } from '../persistence/index.js';
import { alphaWhenNeeded, givenAlpha, type AlphaString } from './alpha-string.js';
import { driveRun, type DriveOutcome } from './drive-run.js';
import { holderIsAlive, livenessOf, livenessWords } from './lease-policy.js';
import { assertRunsKmsdataIsServices } from './folder-checks.js';
import type { ProgressSink } from './progress.js';
import { momentWords } from '../present/time-words.js';

/** The database a command works on, as the use cases need it. */
export interface RunSession {
  dbPath: string;
  store: RunStore;
  leases: RunLeases;
  me: LeaseHolder;
}

/** What the operator asked of a continued run (`resume`, `confirm`). */
export interface ContinueRequest {
  /** `resume --from <state>`: go back to this earlier state first. */
  from?: string;
  /** The operator confirmed on the command line (`--yes`) rather than at the prompt. */
  yes?: boolean;
  /** `resume --timeout/--attempts/--backoff`. */
  policies?: NonNullable<RunOptions['policies']>;
  /** `resume --settle`: a new settle window for the start. */
  settleSeconds?: number;
  /** `confirm <run> <step>`: the operator did this manual step (checked by confirm-step.ts). */
  confirm?: StepName;
}

/** A REWIND the operator is asked to confirm: the state, and the KB steps that will be done again. */
export interface RewindPlan {
  runId: string;
  from: RecoveryState;
  to: RecoveryState;
  redo: string[];
}

/** The operator's side of a drive: the alpha string, the rewind's confirmation, the screen, the log, Ctrl-C. */
export interface DriveIO {
  readAlpha(): Promise<AlphaString>;
  /** The alpha string would be asked at the hidden prompt (no startup disk, no KMS_ALPHA_STRING): a confirm asks it only when needed. */
  alphaAsked(): boolean;
  /** Shows the plan and returns once the operator agreed; throws CONFIRMATION_REQUIRED otherwise. */
  confirmRewind(plan: RewindPlan): Promise<void>;
  progress(serviceName: string, kmsdata: string): ProgressSink;
  logger(): Promise<Logger>;
  withInterrupt<T>(work: (interrupt: AbortSignal) => Promise<T>): Promise<T>;
}

/** Refuses a run that is closed or driven by a live process elsewhere: before asking for anything. */
export function assertDrivable(session: RunSession, run: RunRecord): void {
  if (run.closedAt !== null) {
    throw new KmsRecoverError('RUN_FINISHED', run.phase === 'abandoned'
      ? `run ${run.id} was abandoned at ${momentWords(run.closedAt)}; start a new run to recover this server`
      : `run ${run.id} is already finished (state ${run.state}); nothing to resume`, { runId: run.id });
  }
  const holder = session.leases.holder(run.id);
  const verdict = holder ? livenessOf(holder) : null;
  if (holder && verdict && verdict.liveness !== 'dead' && !(holder.pid === session.me.pid && holder.host === session.me.host)) {
    // driveRun checks again under a transaction; this only says it early.
    const what = verdict.liveness === 'alive' ? '' : `; ${livenessWords(holder, verdict)}: if it stays so, take the run over with kms-recover takeover ${run.id}`;
    throw new KmsRecoverError('RUN_LOCKED', `${drivenBy(run.id, holder)}${what}`, { runId: run.id, pid: holder.pid, host: holder.host, liveness: verdict.liveness });
  }
}

/**
 * `resume --from`: only back to a state the machine's REWIND allows from here (an earlier one,
 * never forward past a guard), with the KB steps that will be done again.
 */
export function rewindPlan(run: RunRecord, from: string): RewindPlan {
  if (!isRecoveryState(from)) {
    throw new KmsRecoverError('REWIND_REFUSED', `--from takes a state: ${RECOVERY_STATES.join(', ')}; not "${from}"`, { runId: run.id });
  }
  const earlier = statesBefore(run.state);
  if (!earlier.includes(from)) {
    throw new KmsRecoverError('REWIND_REFUSED',
      `run ${run.id} is at ${run.state}; --from ${from} would not go back: kms-recover only re-enters an earlier state, never jumps forward past a guard`,
      { runId: run.id });
  }
  const redo = statesFrom(from).flatMap((state) => {
    const next = KB_STEPS[state].next;
    return next === null ? [] : [withKmsdata(next, run.params.kmsdata)];
  });
  return { runId: run.id, from: run.state, to: from, redo };
}

/**
 * Drives an existing run from its checkpoint (`resume`, `confirm`): checks it can be driven,
 * asks what the operator must give or confirm, then drives it. A confirm is the machine's
 * CONFIRM, sent by the driver once it holds the run.
 */
export async function continueRun(session: RunSession, run: RunRecord, request: ContinueRequest, io: DriveIO): Promise<DriveOutcome> {
  assertDrivable(session, run);
  const finishing = run.phase === 'done';
  let rewindTo: RecoveryState | undefined;
  if (request.from !== undefined && !finishing) {
    const plan = rewindPlan(run, request.from);
    await io.confirmRewind(plan);
    rewindTo = plan.to;
  }
  const host = await createHost({ name: run.adapter, config: run.adapterConfig });
  await assertRunsKmsdataIsServices(host, run.params.serviceName, run.params.kmsdata);
  // A manual start means the operator types the alpha string into the service: none is needed
  // here, nor for a run that only has its finish left, nor for one that stays waiting for you.
  const manualStart = run.options.manual?.includes('startService') ?? false;
  const staysWaiting = run.phase === 'waiting' && request.confirm === undefined && rewindTo === undefined;
  // A confirm verifies the operator's step on the server before the alpha string is asked: the
  // prompt comes when the step that needs it does (a startup disk or KMS_ALPHA_STRING is read now).
  const later = !(manualStart || finishing || staysWaiting) && request.confirm !== undefined && io.alphaAsked();
  const given = manualStart || finishing || staysWaiting || later ? null : await io.readAlpha();
  const alpha = later ? alphaWhenNeeded(() => io.readAlpha()) : givenAlpha(given);
  const logger = await io.logger();
  logger.info({ runId: run.id, state: run.state, phase: run.phase, alphaSource: later ? 'prompt, when needed' : given?.source ?? 'operator' }, 'resume');
  const policies = request.policies ?? {};
  const who = { host: session.me.host, pid: session.me.pid };
  return io.withInterrupt((interrupt) => driveRun({
    store: session.store, leases: session.leases, runId: run.id, host, alpha, logger, dbPath: session.dbPath,
    me: session.me, isAlive: holderIsAlive, progress: io.progress(run.params.serviceName, run.params.kmsdata),
    rewindTo, rewindDetail: { confirmed: request.yes ? '--yes' : 'on the terminal', ...who },
    policyChange: Object.keys(policies).length === 0 && request.settleSeconds === undefined
      ? undefined
      : { policies, ...(request.settleSeconds === undefined ? {} : { settleSeconds: request.settleSeconds }), detail: who },
    ...(request.confirm ? { confirm: request.confirm } : {}),
    interrupt,
  }));
}
