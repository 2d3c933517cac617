import { KmsRecoverError } from '../../errors/index.js';
import { createHost } from '../../host/create-host.js';
import { isLeaseHolderAlive } from '../../host/process-identity.js';
import type { RunRecord } from '../../persistence/index.js';
import { driveRun } from '../../recovery/drive-run.js';
import { finishRun } from '../../recovery/finish-run.js';
import type { RunOptions } from '../../recovery/step-policy.js';
import { isRecoveryState } from '../../machines/recovery.snapshot.js';
import { KB_STEPS } from '../../machines/recovery.kb-steps.js';
import { RECOVERY_STATES, type RecoveryState } from '../../machines/recovery.types.js';
import { confirmOrRefuse } from '../confirm-prompt.js';
import { readAlpha } from '../alpha-input.js';
import { progressPrinter } from '../progress-printer.js';
import { reportOutcome } from '../report-outcome.js';
import { printLine } from '../output.js';
import { openLogger, openSession, type Session } from '../session.js';

export interface ResumeCommandOptions {
  startupDisk?: string;
  db?: string;
  json?: boolean;
  /** `--from <state>`: go back to this earlier state first (after confirmation). */
  from?: string;
  yes?: boolean;
}

export async function resumeCommand(runId: string | undefined, options: ResumeCommandOptions): Promise<void> {
  const session = openSession(options.db, { mustExist: true, forWriting: true });
  try {
    const run = runId ? session.store.getRun(runId) : session.store.latestUnfinishedRun();
    if (run) {
      await continueRun(session, run, options);
      return;
    }
    const latest = session.store.latestRun();
    if (!latest || !(await completeFinished(session, latest))) {
      throw new KmsRecoverError('NOTHING_TO_RESUME', `no unfinished run in ${session.dbPath} (kms-recover list shows the runs)`);
    }
  } finally {
    session.close();
  }
}

/** Refuses a run that is finished or driven by a live process elsewhere: before asking for anything. */
export function assertDrivable(session: Session, run: RunRecord): void {
  if (run.phase === 'done') {
    throw new KmsRecoverError('RUN_FINISHED', `run ${run.id} is already finished (state ${run.state}); nothing to resume`, { runId: run.id });
  }
  const holder = session.leases.holder(run.id);
  if (holder && isLeaseHolderAlive(holder) && !(holder.pid === session.me.pid && holder.host === session.me.host)) {
    // driveRun checks again under a transaction; this only says it early.
    throw new KmsRecoverError('RUN_LOCKED', `run ${run.id} is being driven by pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt}`,
      { runId: run.id, pid: holder.pid, host: holder.host });
  }
}

/** Drives an existing run from its checkpoint (resume, confirm) and reports the outcome. */
export async function continueRun(session: Session, run: RunRecord, options: ResumeCommandOptions, beforeDrive?: () => void): Promise<void> {
  if (run.phase === 'done') {
    if (!(await completeFinished(session, run))) assertDrivable(session, run);
    return;
  }
  assertDrivable(session, run);
  const rewindTo = options.from === undefined ? undefined : await confirmRewind(run, options.from, options.yes);
  const host = await createHost({ name: run.adapter, config: run.adapterConfig });
  // A manual start means the operator types the alpha string into the service: none is needed here.
  const manualStart = (run.options as RunOptions).manual?.includes('startService') ?? false;
  const alpha = manualStart ? null : await readAlpha(options.startupDisk);
  beforeDrive?.();
  const logger = await openLogger(session.dbPath);
  const context = (run.snapshot as { context: { kmsdata: string; serviceName: string } }).context;
  logger.info({ runId: run.id, state: run.state, phase: run.phase, alphaSource: alpha?.source ?? 'operator' }, 'resume');
  const outcome = await driveRun({
    store: session.store, leases: session.leases, runId: run.id, host, alpha, logger,
    me: session.me, isAlive: isLeaseHolderAlive, progress: progressPrinter(context.serviceName, () => context.kmsdata),
    rewindTo, rewindDetail: { confirmed: options.yes ? '--yes' : 'on the terminal', host: session.me.host, pid: session.me.pid },
  });
  reportOutcome(session, outcome, Boolean(options.json));
}

/**
 * `resume --from`: only back to an earlier state, never forward past a guard. Says what will be
 * done again and asks before anything is written.
 */
async function confirmRewind(run: RunRecord, from: string, yes: boolean | undefined): Promise<RecoveryState> {
  if (!isRecoveryState(from)) {
    throw new KmsRecoverError('REWIND_REFUSED', `--from takes a state: ${RECOVERY_STATES.join(', ')}; not "${from}"`, { runId: run.id });
  }
  const current = RECOVERY_STATES.indexOf(run.state as RecoveryState);
  const target = RECOVERY_STATES.indexOf(from);
  if (target >= current) {
    throw new KmsRecoverError('REWIND_REFUSED',
      `run ${run.id} is at ${run.state}; --from ${from} would not go back: kms-recover only re-enters an earlier state, never jumps forward past a guard`,
      { runId: run.id });
  }
  const redo = RECOVERY_STATES.slice(target, -1).map((state) => `  - ${KB_STEPS[state].next}`);
  process.stderr.write(`Run ${run.id} goes back from ${run.state} to ${from}. These steps will be done again:\n${redo.join('\n')}\n`);
  await confirmOrRefuse(`Go back to ${from} and redo them?`, yes);
  return from;
}

/**
 * A finished run has nothing left to drive, but a crash right after its `running` checkpoint can
 * leave the quarantine folder and a dead process's lease behind: finish that, or say it is done.
 */
async function completeFinished(session: Session, run: RunRecord): Promise<boolean> {
  const host = await createHost({ name: run.adapter, config: run.adapterConfig });
  const context = (run.snapshot as { context: { kmsdata: string; serviceName: string } }).context;
  const report = await finishRun({
    store: session.store, leases: session.leases, host, run, me: session.me, isAlive: isLeaseHolderAlive,
    progress: progressPrinter(context.serviceName, () => context.kmsdata),
  });
  if (!report.quarantineRemoved && !report.staleLeaseReleased) return false;
  printLine(`Run ${run.id} is ${run.state}: its interrupted finish is now complete.`);
  return true;
}
