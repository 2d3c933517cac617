import type { Logger } from 'pino';
import { isRetryable, type ErrorRecord } from '../errors/index.js';
import { failPoint } from '../host/fail-point.js';
import { stepOf, type RecoveryState } from '../machines/recovery.order.js';
import type { FencedRun, RunOptions, RunQueries } from '../persistence/index.js';
import type { ProgressSink } from './progress.js';
import { backoffDelay, policyFor } from './step-policy.js';

/**
 * The automatic retries of a run's failed steps. XState's `after` timers are lost on a restart,
 * so the wait is a plain timer and its end is committed to SQLite before it starts: a process
 * killed during the back-off resumes with what remains of it.
 */
export class RetrySchedule {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: {
    runId: string; store: RunQueries; fenced: FencedRun; options: RunOptions; logger: Logger; progress: ProgressSink;
    /** Sends RETRY to the run's actor. */
    retry: () => void;
  }) {}

  /** After a step failed: schedules its next attempt if the error is transient and attempts are left; false otherwise. */
  afterFailure(state: RecoveryState, error: ErrorRecord): boolean {
    const { runId, store, fenced, logger, progress } = this.deps;
    const step = stepOf(state);
    // Work that could not be stopped must not have a retry running beside it: the process ends.
    if (step === null || error.detail?.stuck === true) return false;
    const policy = policyFor(this.deps.options, step);
    const attempts = store.attempts(runId, step);
    if (!isRetryable(error.code) || attempts >= policy.attempts) return false;
    const delayMs = backoffDelay(policy, attempts);
    const nextAttemptAt = new Date(Date.now() + delayMs).toISOString();
    fenced.scheduleRetry(step, attempts + 1, nextAttemptAt, { delayMs, after: error.code });
    logger.warn({ runId, step, attempt: attempts + 1, nextAttemptAt }, 'retry scheduled');
    progress.note(`retrying ${step} in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempts + 1} of ${policy.attempts})`);
    failPoint(`backoff-wait:${step}`);
    this.at(nextAttemptAt);
    return true;
  }

  /** A run restored resting in a failed step: a back-off that was under way goes on with what remains of it; otherwise retry now. */
  resume(state: RecoveryState): void {
    const step = stepOf(state);
    if (step !== null) failPoint(`backoff-resume:${step}`);
    const timer = this.deps.store.timer(this.deps.runId);
    const due = timer?.nextAttemptAt && step !== null && timer.step === step ? timer.nextAttemptAt : null;
    if (timer && due && Date.parse(due) > Date.now()) {
      this.deps.progress.note(`waiting ${((Date.parse(due) - Date.now()) / 1000).toFixed(1)} s before retrying ${timer.step} (attempt ${timer.attempt}), as scheduled`);
      this.at(due);
    } else {
      this.deps.retry();
    }
  }

  cancel(): void {
    clearTimeout(this.timer);
  }

  private at(iso: string): void {
    this.timer = setTimeout(() => this.deps.retry(), Math.max(0, Date.parse(iso) - Date.now()));
  }
}
