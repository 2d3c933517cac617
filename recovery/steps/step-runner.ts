import { fromPromise } from '../../machines/xstate-runtime.js';
import { KmsRecoverError } from '../../errors/index.js';
import { failPoint, injectedFault } from '../../host/fail-point.js';
import { asFileIoError } from '../../host/fs/file-errors.js';
import type { ChangeGuard } from '../../host/types.js';
import { KB_STEPS, stateAfter, stateOfStep, type StepInputs, type StepName, type StepOutputs } from '../../machines/index.js';
import { kbLabel } from '../../machines/recovery.kb-steps.js';
import { exactSeconds } from '../../present/time-words.js';
import { settleSecondsOf } from '../settle-window.js';
import { policyFor } from '../step-policy.js';
import { boundedRate } from '../work-progress.js';
import type { StepEffects, StepEnvironment, Track } from './step-environment.js';

/** How long a timed-out attempt may take to stop at its next file or poll before the process ends. */
const STOP_GRACE_MS = 10_000;

/**
 * One attempt may take at most `timeoutMs`. On expiry the attempt's signal aborts, so a copy,
 * hash or wait stops at its next file or poll, and the attempt fails with STEP_TIMEOUT (retried
 * by the step's policy). Work that does not stop within STOP_GRACE_MS is an OS call that cannot
 * be cancelled: STEP_TIMEOUT then says `stuck`, and the CLI ends the process after the checkpoint.
 */
async function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>, remainingMs: number, timeoutMs: number, step: string, outer: AbortSignal): Promise<T> {
  const expiry = new AbortController();
  const expire = () => expiry.abort(new KmsRecoverError('STEP_TIMEOUT',
    `step ${step} did not finish within ${exactSeconds(timeoutMs)}; see the log, then run kms-recover resume`, { step, timeoutMs }));
  if (remainingMs <= 0) expire();
  const timer = setTimeout(expire, Math.max(0, remainingMs));
  const signal = AbortSignal.any([outer, expiry.signal]);
  const running = work(signal);
  // Once aborted, the work has STOP_GRACE_MS to stop at its next file or poll; then it is stuck.
  const stopped = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => {
      const reason: unknown = signal.reason;
      const grace = setTimeout(() => reject(reason instanceof KmsRecoverError
        ? new KmsRecoverError(reason.code, `${reason.message} (the work could not be stopped: this process ends; the run stays resumable)`, { ...reason.detail, stuck: true })
        : reason), STOP_GRACE_MS);
      running.catch(() => undefined).finally(() => { clearTimeout(grace); reject(reason); });
    }, { once: true });
  });
  try {
    return await Promise.race([running, stopped]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The progress of one attempt's long work (copy, verify, clear), written through the fenced
 * handle at a bounded rate, so `status` and `watch` in another console see it; the terminal of
 * this process is told at the same rate.
 */
function tracker(env: StepEnvironment, name: StepName, attempt: number, signal: AbortSignal): Track {
  return (activity) => {
    const began = Date.now();
    return boundedRate((progress) => {
      env.fenced.progress({ step: name, attempt, activity, ...progress });
      env.progress.working(name, activity, progress, Date.now() - began);
    }, { signal });
  };
}

/**
 * The machine's actor of step `name`: owns the attempt (its write-ahead record), its time limit
 * and its abort; runs the tool's `effect`, or, when the operator does the step (`--manual`),
 * `verifyManual` after the operator's CONFIRM. Each step:
 * 1. waits one microtask, so the checkpoint of entering its state is committed first (XState
 *    starts invoked actors before it notifies observers of the new snapshot);
 * 2. records write-ahead intent (`step.started`, attempt n), which also proves that checkpoint;
 * 3. re-checks the host before acting (in its effect), so running it again after a crash is safe.
 */
export function stepActor<K extends StepName>(env: StepEnvironment, name: K, { effect, verifyManual, needsAlpha }: StepEffects<K>) {
  const manualSteps = new Set(env.options.manual ?? []);
  const state = stateOfStep(name);
  return fromPromise<StepOutputs[K], StepInputs[K]>(async ({ input, signal: actorSignal }) => {
    await Promise.resolve();
    const policy = policyFor(env.options, name);
    // The start's time limit is for the start itself: its settle window comes on top.
    const timeoutMs = policy.timeoutMs + (name === 'startService' ? settleSecondsOf(env.options) * 1000 : 0);
    // The operator's step after a CONFIRM is a verification: it spends no attempt of the step.
    const byOperator = manualSteps.has(name);
    if (needsAlpha && !byOperator) await alphaBeforeAttempt(env, actorSignal);
    const attempt = env.fenced.beginStep(state, name, timeoutMs, { verifying: byOperator });
    // The attempt's deadline counts from its recorded start (status shows the same time).
    const deadline = Date.now() + timeoutMs;
    env.logger.info({ runId: env.runId, state, step: name, attempt }, 'step started');
    env.progress.stepStarted(state, name, attempt);
    failPoint(`before-step:${name}`);
    injectedFault(name, attempt);
    const outer = AbortSignal.any([actorSignal, env.lost]);
    const output = await withTimeout((signal) => {
      signal.throwIfAborted();
      // Before every change: still this run's driver (its lease), and still this run's server (its claim).
      const change = `${name} (${kbLabel(KB_STEPS[stateAfter(state)].kbSteps)})`;
      const guard: ChangeGuard = { signal, assertMayAct: () => { env.fenced.assertCurrent(); env.assertClaim(change); } };
      const track = tracker(env, name, attempt, signal);
      return (byOperator ? verifyManual : effect)(input, guard, track);
    }, deadline - Date.now(), timeoutMs, name, outer).catch((error: unknown) => {
      // A disk error no file operation named on its way up is still the disk's, not a bug.
      throw asFileIoError(error);
    });
    env.fenced.assertCurrent();
    failPoint(`after-step:${name}`);
    return output;
  });
}

/**
 * The alpha string, asked (where it must be) before the attempt that gives it begins. Ctrl-C at
 * that prompt ends the drive as any Ctrl-C does (the drive's interrupt): this step then records
 * nothing, and waits to be stopped with the actor.
 */
async function alphaBeforeAttempt(env: StepEnvironment, actorSignal: AbortSignal): Promise<void> {
  try {
    await env.alpha();
  } catch (error) {
    if (!env.lost.aborted) throw error;
    await new Promise<never>((_resolve, reject) => {
      if (actorSignal.aborted) reject(actorSignal.reason);
      else actorSignal.addEventListener('abort', () => reject(actorSignal.reason), { once: true });
    });
  }
}
