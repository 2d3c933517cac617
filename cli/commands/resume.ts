import { KmsRecoverError } from '../../errors/index.js';
import { createHost } from '../../host/create-host.js';
import type { RunRecord } from '../../persistence/index.js';
import { driveRun } from '../../recovery/drive-run.js';
import { holderIsAlive } from '../../recovery/lease-policy.js';
import { policiesFrom, type RunOptions } from '../../recovery/step-policy.js';
import { isRecoveryState } from '../../machines/recovery.snapshot.js';
import { KB_STEPS, withKmsdata } from '../../machines/recovery.kb-steps.js';
import { RECOVERY_STATES, type RecoveryState } from '../../machines/recovery.types.js';
import { confirmOrRefuse } from '../confirm-prompt.js';
import { readAlpha } from '../alpha-input.js';
import { progressPrinter } from '../progress-printer.js';
import { reportOutcome } from '../report-outcome.js';
import { withInterrupt } from '../interrupt.js';
import { openLogger, openSession, type Session } from '../session.js';

export interface ResumeCommandOptions {
  startupDisk?: string;
  db?: string;
  json?: boolean;
  /** `--from <state>`: go back to this earlier state first (after confirmation). */
  from?: string;
  yes?: boolean;
  timeout?: string[];
  attempts?: string[];
  backoff?: string[];
}

export async function resumeCommand(runId: string | undefined, options: ResumeCommandOptions): Promise<void> {
  // Bad option values are refused before anything is opened.
  const policies = policiesFrom(options);
  const session = openSession(options.db, { mustExist: true, forWriting: true });
  try {
    const run = runId ? session.store.getRun(runId) : session.store.latestUnfinishedRun();
    if (!run) throw new KmsRecoverError('NOTHING_TO_RESUME', `no unfinished run in ${session.dbPath} (kms-recover list shows the runs)`);
    await continueRun(session, run, { ...options, policies });
  } finally {
    session.close();
  }
}

/** Refuses a run that is closed or driven by a live process elsewhere: before asking for anything. */
export function assertDrivable(session: Session, run: RunRecord): void {
  if (run.closedAt !== null) {
    throw new KmsRecoverError('RUN_FINISHED', run.phase === 'abandoned'
      ? `run ${run.id} was abandoned at ${run.closedAt}; start a new run to recover this server`
      : `run ${run.id} is already finished (state ${run.state}); nothing to resume`, { runId: run.id });
  }
  const holder = session.leases.holder(run.id);
  if (holder && holderIsAlive(holder) && !(holder.pid === session.me.pid && holder.host === session.me.host)) {
    // driveRun checks again under a transaction; this only says it early.
    throw new KmsRecoverError('RUN_LOCKED', `run ${run.id} is being driven by pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt}`,
      { runId: run.id, pid: holder.pid, host: holder.host });
  }
}

/** Drives an existing run from its checkpoint (resume, confirm) and reports the outcome. */
export async function continueRun(
  session: Session, run: RunRecord, options: ResumeCommandOptions & { policies?: NonNullable<RunOptions['policies']> }, beforeDrive?: () => void,
): Promise<void> {
  assertDrivable(session, run);
  const finishing = run.phase === 'done';
  const rewindTo = options.from === undefined || finishing ? undefined : await confirmRewind(run, options.from, options.yes);
  const host = await createHost({ name: run.adapter, config: run.adapterConfig });
  // A manual start means the operator types the alpha string into the service: none is needed
  // here, nor for a run that only has its finish left.
  const manualStart = (run.options as RunOptions).manual?.includes('startService') ?? false;
  const alpha = manualStart || finishing ? null : await readAlpha(options.startupDisk);
  beforeDrive?.();
  const logger = await openLogger(session.dbPath);
  const context = (run.snapshot as { context: { kmsdata: string; serviceName: string } }).context;
  logger.info({ runId: run.id, state: run.state, phase: run.phase, alphaSource: alpha?.source ?? 'operator' }, 'resume');
  const policies = options.policies ?? {};
  const outcome = await withInterrupt((interrupt) => driveRun({
    store: session.store, leases: session.leases, runId: run.id, host, alpha, logger, dbPath: session.dbPath,
    me: session.me, isAlive: holderIsAlive, progress: progressPrinter(context.serviceName, () => context.kmsdata),
    rewindTo, rewindDetail: { confirmed: options.yes ? '--yes' : 'on the terminal', host: session.me.host, pid: session.me.pid },
    policyChange: Object.keys(policies).length === 0 ? undefined : { policies, detail: { host: session.me.host, pid: session.me.pid } },
    interrupt,
  }));
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
  const kmsdata = (run.snapshot as { context?: { kmsdata?: string } }).context?.kmsdata ?? null;
  const redo = RECOVERY_STATES.slice(target, -1).map((state) => `  - ${withKmsdata(KB_STEPS[state].next ?? '', kmsdata)}`);
  process.stderr.write(`Run ${run.id} goes back from ${run.state} to ${from}. These steps will be done again:\n${redo.join('\n')}\n`);
  await confirmOrRefuse(`Go back to ${from} and redo them?`, yes);
  return from;
}
