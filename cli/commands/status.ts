import { KmsRecoverError } from '../../errors/index.js';
import { runStatus, type RunStatus } from '../../recovery/run-status.js';
import { printJson, printLine } from '../output.js';
import { openSession } from '../session.js';

export interface StatusCommandOptions {
  db?: string;
  json?: boolean;
}

export function statusCommand(runId: string | undefined, options: StatusCommandOptions): void {
  const session = openSession(options.db, { mustExist: true });
  try {
    const run = runId ? session.store.getRun(runId) : session.store.latestRun();
    if (!run) throw new KmsRecoverError('RUN_NOT_FOUND', `no runs in ${session.dbPath} yet (start one with kms-recover start)`);
    const status = runStatus(run, session.store.events(run.id), session.leases.holder(run.id));
    if (options.json) printJson(status);
    else printStatus(status);
  } finally {
    session.close();
  }
}

function printStatus(s: RunStatus): void {
  const where = s.done ? 'recovery complete' : s.phase === 'failed' ? 'step failed, waiting for a retry' : 'in progress or interrupted';
  printLine(`Run ${s.runId} on ${s.host} (${s.adapter} adapter, machine v${s.machineVersion})`);
  printLine(`Kmsdata: ${s.kmsdata ?? '?'}   backup: ${s.backup ?? '?'}`);
  printLine(`State:   ${s.state} (${where})`);
  for (const step of s.steps) {
    const mark = step.reachedAt ? 'x' : step.state === s.state ? '>' : ' ';
    printLine(`  [${mark}] ${step.state.padEnd(15)} KB step ${step.kbSteps.padEnd(4)} ${step.reachedAt ?? ''}`);
  }
  if (s.lease) printLine(`Driven by pid ${s.lease.pid} on ${s.lease.host} since ${s.lease.acquiredAt}`);
  if (s.lastError) printLine(`Last error: ${s.lastError.code}: ${s.lastError.message}`);
  printLine(s.next ? `Next: ${s.next}` : 'Next: nothing; the original Key Management Server is running.');
}
