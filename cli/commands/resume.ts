import { KmsRecoverError } from '../../errors/index.js';
import { createHost } from '../../host/create-host.js';
import { isLeaseHolderAlive } from '../../host/process-identity.js';
import { driveRun } from '../../recovery/drive-run.js';
import { readAlpha } from '../alpha-input.js';
import { progressPrinter } from '../progress-printer.js';
import { reportOutcome } from '../report-outcome.js';
import { openLogger, openSession } from '../session.js';

export interface ResumeCommandOptions {
  startupDisk?: string;
  db?: string;
  json?: boolean;
}

export async function resumeCommand(runId: string | undefined, options: ResumeCommandOptions): Promise<void> {
  const session = openSession(options.db, { mustExist: true, forWriting: true });
  try {
    const run = runId ? session.store.getRun(runId) : session.store.latestUnfinishedRun();
    if (!run) throw new KmsRecoverError('NOTHING_TO_RESUME', `no unfinished run in ${session.dbPath} (kms-recover list shows the runs)`);
    if (run.phase === 'done') {
      throw new KmsRecoverError('RUN_FINISHED', `run ${run.id} is already finished (state ${run.state}); nothing to resume`, { runId: run.id });
    }
    const holder = session.leases.holder(run.id);
    if (holder && isLeaseHolderAlive(holder) && !(holder.pid === session.me.pid && holder.host === session.me.host)) {
      // Say so before asking for the alpha string; driveRun checks again under a transaction.
      throw new KmsRecoverError('RUN_LOCKED', `run ${run.id} is being driven by pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt}`,
        { runId: run.id, pid: holder.pid, host: holder.host });
    }
    const host = await createHost({ name: run.adapter, config: run.adapterConfig });
    const alpha = await readAlpha(options.startupDisk);
    const logger = await openLogger(session.dbPath);
    const context = (run.snapshot as { context: { kmsdata: string; serviceName: string } }).context;
    logger.info({ runId: run.id, state: run.state, phase: run.phase, alphaSource: alpha.source }, 'resume');
    const outcome = await driveRun({
      store: session.store, leases: session.leases, runId: run.id, host, alpha, logger,
      me: session.me, isAlive: isLeaseHolderAlive, progress: progressPrinter(context.serviceName, () => context.kmsdata),
    });
    reportOutcome(session, outcome, Boolean(options.json));
  } finally {
    session.close();
  }
}
