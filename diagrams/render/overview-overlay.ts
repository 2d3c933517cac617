import type { LeaseRecord } from '../../persistence/run-lease.js';
import type { RecoveryState } from '../../machines/recovery.types.js';
import type { RunStatus, StepStatus } from '../../recovery/run-status.js';
import { kbLabel, type ChainStep, type OverviewChain } from './overview-chain.js';
import { durationWords, localTime, utcOffset } from '../../present/time-words.js';

/**
 * Where one of the six states stands in a run, as the administrator reads it. The step leading
 * into the current state is `working` (a live process runs it), `interrupted` (the run is not
 * finished, not failed, and no live process holds its lease), `waiting` (a manual step is
 * the administrator's to do) or `failed`.
 */
export type StateMark = 'done' | 'working' | 'interrupted' | 'waiting' | 'failed' | 'pending';

export interface StateOnRun {
  state: RecoveryState;
  mark: StateMark;
  /** `done 2026-12-01 10:02:03, took 1.2 s`, `failed: SERVICE_START_FAILED`, `not yet`. */
  words: string;
}

/** A run drawn on the overview: every renderer prints these words and nothing else of the run. */
export interface OverviewOverlay {
  runId: string;
  /** One line on where the run stands. */
  headline: string;
  /** What the administrator does now (one command), or null when there is nothing to do. */
  next: string | null;
  /** The six states in chain order. */
  states: StateOnRun[];
  /** The run's Kmsdata folder (the chain names it in KB step 3). */
  kmsdata: string | null;
  /** The offset of the local times shown, `UTC+01:00`. */
  timeZone: string;
}

/** The run on the overview, from its status (recovery/run-status.ts) and its live driver, if any. */
export function overviewOverlay(chain: OverviewChain, status: RunStatus, driver: LeaseRecord | null): OverviewOverlay {
  const waiting = status.situation === 'waiting';
  const markOf = (step: StepStatus): StateMark => {
    if (step.status === 'working') return driver ? 'working' : 'interrupted';
    if (step.status === 'failed') return waiting ? 'waiting' : 'failed';
    if (step.status === 'waiting') return 'waiting';
    return step.status;
  };
  const states = chain.states.map(({ state }): StateOnRun => {
    const step = status.steps.find((s) => s.state === state);
    const mark = step ? markOf(step) : 'pending';
    return { state, mark, words: step ? wordsOf(step, mark, status) : MARK_WORDS.pending };
  });
  const current = states.find((s) => s.mark !== 'done' && s.mark !== 'pending') ?? null;
  const step = current ? chain.steps.find((s) => s.to === current.state) ?? null : null;
  return {
    runId: status.runId,
    ...headlineOf(status, current?.mark ?? null, step, driver),
    states,
    kmsdata: status.kmsdata,
    timeZone: utcOffset(status.createdAt),
  };
}

/** The legend's words for each mark, shared by every format. */
export const MARK_WORDS: Record<StateMark, string> = {
  done: 'done',
  working: 'working now',
  interrupted: 'interrupted: nobody is running it',
  waiting: 'waiting for you',
  failed: 'failed',
  pending: 'not yet',
};

function wordsOf(step: StepStatus, mark: StateMark, status: RunStatus): string {
  switch (mark) {
    case 'done': {
      const at = step.lastReachedAt ?? step.reachedAt;
      if (step.step === null) return at ? `checked at start, ${localTime(at)}` : 'checked at start';
      const took = step.durationMs === null ? '' : `, took ${durationWords(step.durationMs)}`;
      return at ? `done ${localTime(at)}${took}` : `done${took}`;
    }
    case 'working':
      return step.attempts > 1 ? `working now (attempt ${step.attempts})` : 'working now';
    case 'interrupted':
      return MARK_WORDS.interrupted;
    case 'waiting':
      return `waiting for you: do ${kbLabel(step.kbSteps)} by hand`;
    case 'failed':
      return `failed: ${status.lastError?.code ?? 'see kms-recover status'}`;
    case 'pending':
      return MARK_WORDS.pending;
  }
}

function headlineOf(status: RunStatus, mark: StateMark | null, step: ChainStep | null, driver: LeaseRecord | null): { headline: string; next: string | null } {
  const run = `Run ${status.runId}`;
  const what = step ? kbLabel(step.kbSteps) : 'its current step';
  switch (mark) {
    case 'working':
      return {
        headline: `${run}: working on ${what}`,
        next: driver ? `wait: pid ${driver.pid} on ${driver.host} is running it (kms-recover status ${status.runId} tells more)` : null,
      };
    case 'interrupted':
      if (status.situation === 'unresponsive') {
        return { headline: `${run}: held at ${what} by pid ${status.driver.pid ?? '?'} on ${status.driver.host ?? '?'}, which does not respond`, next: status.next };
      }
      return { headline: `${run}: interrupted during ${what}, nothing is lost`, next: `kms-recover resume ${status.runId}` };
    case 'waiting':
      return {
        headline: `${run}: waiting for you to do ${status.waitingFor ? kbLabel(status.waitingFor.kbSteps) : what} by hand`,
        next: `when it is done, run: ${status.waitingFor?.command ?? `kms-recover confirm ${status.runId} ${status.lastError?.step ?? '<step>'}`}`,
      };
    case 'failed':
      return {
        headline: `${run}: ${what} failed (${status.lastError?.code ?? 'no error recorded'})`,
        next: `kms-recover status ${status.runId} says why and what to do, then: kms-recover resume ${status.runId}`,
      };
    default:
      if (status.done) return { headline: `${run}: recovery complete, the original Key Management Server is running (${durationWords(status.elapsedMs)} in all)`, next: null };
      return { headline: `${run}: ${status.state} (${status.phase})`, next: `kms-recover status ${status.runId}` };
  }
}
