import type { RecoveryState } from '../../machines/recovery.types.js';
import type { RunStatus, StepStatus } from '../../recovery/run-status.js';
import { kbLabel, type OverviewChain } from './overview-chain.js';
import { durationWords, localTime, utcOffset } from '../../present/time-words.js';
import { SITUATION_WORDS } from '../../present/situation-words.js';
import { stepMark, type StepMark } from '../../present/step-marks.js';
import { failureCause, failureWords } from '../../present/failure-words.js';

/**
 * Where one of the six states stands in a run, as the administrator reads it (present/step-marks.ts,
 * as `status`'s checklist marks it). The step leading into the current state is `working` (a live
 * process runs it), `interrupted` (no live process drives it), `waiting` (a manual step is the
 * administrator's to do) or `failed`.
 */
export type StateMark = StepMark;

export interface StateOnRun {
  state: RecoveryState;
  mark: StateMark;
  /** `done 2026-12-01 10:02:03, took 1.2 s`, `failed: the service did not start (SERVICE_START_FAILED)`, `not yet`. */
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

/** The run on the overview, from its view (recovery/run-view.ts): its situation and next action are status's own. */
export function overviewOverlay(chain: OverviewChain, status: RunStatus): OverviewOverlay {
  const states = chain.states.map(({ state }): StateOnRun => {
    const step = status.steps.find((s) => s.state === state);
    const mark = step ? stepMark(step.status, status.situation) : 'pending';
    return { state, mark, words: step ? wordsOf(step, mark, status) : MARK_WORDS.pending };
  });
  return {
    runId: status.runId,
    headline: headlineOf(status),
    next: status.next,
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
      return `failed: ${failureCause(status.current, status.lastError)}`;
    case 'pending':
      return MARK_WORDS.pending;
  }
}

/** One line on where the run stands: its situation, as `status` tells it. */
function headlineOf(status: RunStatus): string {
  const run = `Run ${status.runId}`;
  const what = status.current ? kbLabel(status.current.kbSteps) : 'its clean-up';
  switch (status.situation) {
    case 'working': return `${run}: working on ${what}`;
    case 'retrying': return `${run}: waiting to retry ${what}`;
    case 'interrupted': return `${run}: interrupted during ${what}, nothing is lost`;
    case 'unresponsive': return `${run}: held at ${what} by pid ${status.driver.pid ?? '?'} on ${status.driver.host ?? '?'}, which does not respond`;
    case 'waiting': return `${run}: waiting for you to do ${status.waitingFor ? kbLabel(status.waitingFor.kbSteps) : what} by hand`;
    case 'failed': return `${run}: ${failureWords(status.current, status.lastError)}`;
    case 'finishing': return `${run}: ${SITUATION_WORDS.finishing}`;
    case 'finished': return `${run}: recovery complete, the original Key Management Server is running (${durationWords(status.elapsedMs)} in all)`;
    case 'abandoned': return `${run}: ${SITUATION_WORDS.abandoned} at ${status.state}`;
  }
}
