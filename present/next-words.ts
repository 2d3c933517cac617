import type { RunSituation } from '../domain/index.js';
import { adviceFor, type AlphaFrom, type ErrorRecord } from '../errors/index.js';
import { KB_STEPS, kbLabel } from '../machines/recovery.kb-steps.js';
import type { RecoveryState, StepName } from '../machines/recovery.order.js';
import { momentWords } from './time-words.js';

/** A manual step waiting for the administrator: the KB's words once, and the one command that confirms it. */
export interface WaitingFor {
  kbSteps: string;
  words: string;
  confirm: StepName;
  command: string;
}

/** What the next action is made of: the run, its situation and who drives it (recovery/run-situation.ts decides). */
export interface NextInput {
  runId: string;
  state: RecoveryState;
  /** The run rests in a failed step (a retry's wait, if any, is kept by `resume`). */
  failedStep: boolean;
  situation: RunSituation;
  driver: { pid: number; host: string } | null;
  /** The liveness rule's sentence for an unresponsive holder. */
  unresponsiveWords: string | null;
  timer: { step: string; attempt: number; nextAttemptAt: string | null } | null;
  /** The scheduled retry's time is still ahead (false once it has come, or with none). */
  retryWaits?: boolean;
  waitingFor: WaitingFor | null;
  lastError: ErrorRecord | null;
  /** What a `resume` or `confirm` of this run needs on its command line (` --startup-disk <file>`), or ''. */
  driveArgs: string;
  /** How the alpha string of the run's last credential step was given (a refused one's advice depends on it). */
  alphaFrom?: AlphaFrom | null;
}

/** The operator's next action: one exact command, with the KB's words where the step is the operator's to know. */
export function nextWords(n: NextInput): string | null {
  const resume = `kms-recover resume ${n.runId}${n.driveArgs}`;
  const kb = KB_STEPS[n.state];
  switch (n.situation) {
    case 'finished':
      return null;
    case 'abandoned':
      return `This run was abandoned; nothing more happens in it. To recover the server, start a new run (kms-recover start ...): it deletes this run's quarantine once the KMS runs.`;
    case 'finishing':
      return `The original Key Management Server runs, but the clean-up after it (the reinstall's files kept aside, the server's claim) was cut off: run ${resume} to complete it.`;
    case 'working':
      return n.driver ? `Nothing to do: pid ${n.driver.pid} on ${n.driver.host} is working on it; follow it with kms-recover watch ${n.runId}` : null;
    case 'retrying':
      return `Nothing to do: pid ${n.driver?.pid ?? '?'} retries ${n.timer?.step ?? 'the step'} (attempt ${n.timer?.attempt ?? '?'}) at ${n.timer?.nextAttemptAt ? momentWords(n.timer.nextAttemptAt) : '?'}; follow it with kms-recover watch ${n.runId}`;
    case 'waiting':
      return n.waitingFor ? `${n.waitingFor.words} When it is done, run: ${n.waitingFor.command}` : n.lastError?.message ?? null;
    case 'unresponsive':
      return n.unresponsiveWords
        ? `${n.unresponsiveWords}: if it stays so, make sure it does not come back (end that process), then run kms-recover takeover ${n.runId}, then ${resume}`
        : null;
    case 'interrupted': {
      const retry = !n.timer?.nextAttemptAt || !n.failedStep ? ''
        : n.retryWaits ? ` (it keeps the remaining wait before attempt ${n.timer.attempt} of ${n.timer.step})`
          : ` (attempt ${n.timer.attempt} of ${n.timer.step} is due: it begins at once)`;
      return `Nothing is lost: run ${resume}${retry}${kb?.next ? ` to go on with ${kb.next.replace(/:.*$/s, '')}` : ''}.`;
    }
    case 'failed':
      break;
  }
  if (!kb || kb.next === null) return null;
  return adviceFor(n.lastError?.code ?? 'INTERNAL', { resume, step: kb.next.replace(/:.*$/s, ''), message: n.lastError?.message ?? '', alphaFrom: n.alphaFrom ?? null });
}

/** A waiting run's error record when the check of a confirm found nothing: MANUAL_STEP_PENDING with the step's words. */
export function pendingWords(runId: string, step: string, w: WaitingFor): ErrorRecord & { step: string } {
  return {
    code: 'MANUAL_STEP_PENDING', step,
    message: `Do ${kbLabel(w.kbSteps)} by hand: ${w.words} When it is done, run: ${w.command}`,
    detail: { step, runId, confirm: w.confirm, kbSteps: w.kbSteps },
  };
}
