import type { RunStatus } from '../recovery/run-status.js';
import { durationWords, timeWords } from '../present/time-words.js';
import { kbLabel } from '../machines/recovery.kb-steps.js';
import { stepMark, type StepMark } from '../present/step-marks.js';
import { driverLine, progressLineOf, SITUATION_WORDS } from './run-words.js';

export interface ScreenOptions {
  utc?: boolean;
}

/** The head of a run's screen: which run, where, and its situation in words. */
export function headLines(s: RunStatus, options: ScreenOptions = {}): string[] {
  const step = s.current ? `${kbLabel(s.current.kbSteps)} (${s.current.step})` : '';
  const where = s.abandoned
    ? `abandoned at ${timeWords(s.abandoned.at, options)}${s.abandoned.reason ? ` (${s.abandoned.reason})` : ''}`
    : {
      working: `working on ${step || 'its clean-up'}`,
      retrying: `waiting to retry ${step}`,
      interrupted: `interrupted during ${step || 'its clean-up'}: no process is running it`,
      unresponsive: `held at ${step || 'its clean-up'} by pid ${s.driver.pid ?? '?'} on ${s.driver.host ?? '?'}, which does not respond`,
      waiting: `waiting for you at ${s.waitingFor ? kbLabel(s.waitingFor.kbSteps) : step}`,
      failed: `${step} failed`,
      finishing: SITUATION_WORDS.finishing,
      finished: SITUATION_WORDS.finished,
      abandoned: SITUATION_WORDS.abandoned,
    }[s.situation];
  return [
    `Run ${s.runId} on ${s.host} (${s.adapter} adapter, machine v${s.machineVersion})`,
    `Kmsdata: ${s.kmsdata ?? '?'}   backup: ${s.backup ?? '?'}`,
    ...(s.computerName ? [`Computer: ${s.computerName}${s.originalName ? ` (the original's name, checked: --original-name ${s.originalName})` : ' (not checked against the original\'s name: --original-name)'}   settle window: ${s.settleSeconds} s`] : []),
    `State:   ${s.state}, ${where}; started ${timeWords(s.createdAt, options)}, ${s.done ? 'took' : 'last change after'} ${durationWords(s.elapsedMs)}`,
  ];
}

const MARKS = { done: 'x', working: '>', interrupted: '~', waiting: '?', failed: '!', pending: ' ' } as const;
type Mark = StepMark;

const MARK_WORDS: Record<Exclude<Mark, 'done' | 'pending'>, string> = {
  working: 'working now',
  interrupted: 'interrupted',
  waiting: 'waiting for you',
  failed: 'failed',
};

/** The six states, one line each: mark, KB step, when, the step with its attempts and time. */
export function checklistLines(s: RunStatus, options: ScreenOptions = {}): string[] {
  const lines: string[] = [];
  for (const step of s.steps) {
    const mark = stepMark(step.status, s.situation);
    const reached = step.lastReachedAt ?? step.reachedAt;
    const when = mark === 'done' ? (reached ? timeWords(reached, options) : '') : mark === 'pending' ? '' : MARK_WORDS[mark];
    const how = step.step
      ? `${step.step.padEnd(15)}${attemptWords(step, mark, s.manualSteps).padEnd(11)}${step.durationMs === null ? '' : durationWords(step.durationMs)}`
      : 'checked at start';
    lines.push(`  [${MARKS[mark]}] ${step.state.padEnd(15)} KB ${step.kbSteps.padEnd(4)} ${when.padEnd(32)} ${how}`.trimEnd());
    if (mark !== 'done' && step.reachedAt) lines.push(`      (reached at ${timeWords(step.reachedAt, options)}, then went back)`);
  }
  return lines;
}

/** What is under way: the long step's progress, the retry or deadline, and who drives the run. */
export function workLines(s: RunStatus, options: ScreenOptions = {}): string[] {
  const lines: string[] = [];
  const progress = progressLineOf(s, options);
  if (progress) lines.push(`Progress: ${progress}`);
  if (s.situation === 'retrying' && s.timer?.nextAttemptAt) {
    lines.push(`Retry:   attempt ${s.timer.attempt} of ${s.timer.step} at ${timeWords(s.timer.nextAttemptAt, options)}`);
  } else if (s.situation === 'working' && s.timer?.deadlineAt && Date.parse(s.timer.deadlineAt) > Date.now()) {
    lines.push(`Deadline: ${s.timer.verifying ? `the check of your ${s.timer.step}` : `attempt ${s.timer.attempt} of ${s.timer.step}`} must finish by ${timeWords(s.timer.deadlineAt, options)}`);
  }
  if (s.situation !== 'finished' && s.situation !== 'abandoned') lines.push(driverLine(s, options));
  return lines;
}

/** A step's attempts; a step done by the operator spends none (`by you`), a step at work is at least starting its first. */
function attemptWords(step: { step: string | null; attempts: number }, mark: Mark, manual: readonly string[]): string {
  if (step.attempts === 0 && step.step !== null && manual.includes(step.step)) return 'by you';
  if (step.attempts === 0 && mark === 'working') return 'starting';
  return plural(step.attempts, 'attempt');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
