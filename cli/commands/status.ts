import { KmsRecoverError } from '../../errors/index.js';
import { runStatus, type RunStatus } from '../../recovery/run-status.js';
import { holderIsAlive } from '../../recovery/lease-policy.js';
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
    const status = runStatus(run, session.store.events(run.id), session.leases.holder(run.id), session.store.timer(run.id));
    if (options.json) printJson(status);
    else printStatus(status);
  } finally {
    session.close();
  }
}

function printStatus(s: RunStatus): void {
  const where = s.abandoned ? `abandoned at ${s.abandoned.at}${s.abandoned.reason ? ` (${s.abandoned.reason})` : ''}`
    : s.finishPending ? 'the KMS runs; its clean-up was cut off'
      : s.done ? 'recovery complete' : s.phase === 'failed' ? 'step failed, waiting for a retry' : 'in progress or interrupted';
  printLine(`Run ${s.runId} on ${s.host} (${s.adapter} adapter, machine v${s.machineVersion})`);
  printLine(`Kmsdata: ${s.kmsdata ?? '?'}   backup: ${s.backup ?? '?'}`);
  printLine(`State:   ${s.state} (${where}); started ${s.createdAt}, ${s.done ? 'took' : 'last change after'} ${formatDuration(s.elapsedMs)}`);
  printLine();
  for (const step of s.steps) {
    const mark = { done: 'x', working: '>', failed: '!', pending: ' ' }[step.status];
    const when = step.status === 'done' ? step.lastReachedAt ?? step.reachedAt ?? '' : step.status === 'pending' ? '' : step.status;
    const how = step.step
      ? `${step.step.padEnd(15)}${plural(step.attempts, 'attempt').padEnd(11)}${step.durationMs === null ? '' : formatDuration(step.durationMs)}`
      : 'checked at start';
    printLine(`  [${mark}] ${step.state.padEnd(15)} KB ${step.kbSteps.padEnd(4)} ${when.padEnd(25)} ${how}`.trimEnd());
    if (step.status !== 'done' && step.reachedAt) printLine(`      (reached at ${step.reachedAt}, then went back)`);
  }
  printLine();
  for (const d of s.drift) {
    printLine(`Drift:   ${d.at} ${d.service ?? 'the service'} was ${d.serviceState ?? 'running'} before ${d.step ?? 'a step'} (a reboot?); it was stopped again`);
  }
  for (const t of s.takeovers) {
    printLine(`Lease:   ${t.at} taken over from pid ${t.fromPid ?? '?'} on ${t.fromHost ?? '?'} (driving since ${t.since ?? '?'}), which had died`);
  }
  printLine(!s.lease ? 'Driven by: nobody (no process holds this run now)'
    : holderIsAlive(s.lease)
      ? `Driven by pid ${s.lease.pid} on ${s.lease.host} since ${s.lease.acquiredAt} (last heartbeat ${s.lease.heartbeatAt})`
      : `Driven by: nobody; pid ${s.lease.pid} on ${s.lease.host}, which held the run since ${s.lease.acquiredAt}, is gone (resume takes over)`);
  if (s.lastError) {
    const step = s.lastError.step ? ` in ${s.lastError.step}` : '';
    printLine(`Last error${step}${s.lastErrorAt ? ` at ${s.lastErrorAt}` : ''}: ${s.lastError.code}: ${s.lastError.message}`);
  }
  if (s.manualSteps.length) printLine(`Manual:  ${s.manualSteps.join(', ')} (done by the operator, then kms-recover confirm)`);
  if (s.timer?.nextAttemptAt && !s.done) printLine(`Retry:   attempt ${s.timer.attempt} of ${s.timer.step} at ${s.timer.nextAttemptAt}`);
  else if (s.timer?.deadlineAt && s.phase === 'working') printLine(`Deadline: attempt ${s.timer.attempt} of ${s.timer.step} must finish by ${s.timer.deadlineAt}`);
  printLine(s.next ? `Next: ${s.next}` : 'Next: nothing; the original Key Management Server is running.');
  printLine(`(${plural(s.eventCount, 'event')} in the log: kms-recover history ${s.runId})`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `850 ms`, `12.4 s`, `3 min 05 s`, `2 h 07 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
