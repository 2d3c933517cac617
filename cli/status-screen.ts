import type { RunStatus } from '../recovery/run-status.js';
import { agoWords, durationWords, timesNote, timeWords } from '../present/time-words.js';
import { kbLabel } from '../machines/recovery.kb-steps.js';
import { stepMark, type StepMark } from '../present/step-marks.js';
import { screenWidth } from './output.js';
import { driverLine, progressLineOf, SITUATION_WORDS } from './run-words.js';

export interface ScreenOptions {
  utc?: boolean;
  /** The width the screen's lines must fit (default: stdout's, cli/output.ts). */
  width?: number;
  /** No words that change with the clock alone (`3 minutes ago`): `watch` off a terminal prints each line that changes. */
  still?: boolean;
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
  const width = options.width ?? screenWidth();
  const places = `Kmsdata: ${s.kmsdata ?? '?'}   backup: ${s.backup ?? '?'}`;
  // A finished run says how long it took; any other when it last moved (and, drawn once, how long ago).
  const when = s.done
    ? `took ${durationWords(s.elapsedMs)}`
    : `last change ${timeWords(s.updatedAt, options)}${!options.still ? ` (${agoWords(s.updatedAt)})` : ''}`;
  return [
    `Run ${s.runId} on ${s.host} (${s.adapter} adapter, machine v${s.machineVersion}); ${timesNote(options)}`,
    ...(places.length <= width ? [places] : [`Kmsdata: ${s.kmsdata ?? '?'}`, `Backup:  ${s.backup ?? '?'}`]),
    ...(s.computerName ? [`Computer: ${s.computerName}${s.originalName ? ` (the original's name, checked: --original-name ${s.originalName})` : ' (not checked against the original\'s name: --original-name)'}   settle window: ${s.settleSeconds} s`] : []),
    `State:   ${s.state}, ${where}; started ${timeWords(s.createdAt, options)}, ${when}`,
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

/**
 * The six states, one line each: mark, KB step, when, the step with its attempts and time. When
 * the rows do not fit the width, the step's part goes on a line of its own under each row.
 */
export function checklistLines(s: RunStatus, options: ScreenOptions = {}): string[] {
  const width = options.width ?? screenWidth();
  const rows = s.steps.map((step) => {
    const mark = stepMark(step.status, s.situation);
    const reached = step.lastReachedAt ?? step.reachedAt;
    const when = mark === 'done' ? (reached ? timeWords(reached, options) : '') : mark === 'pending' ? '' : MARK_WORDS[mark];
    const wentBack = mark !== 'done' && step.reachedAt ? `(reached at ${timeWords(step.reachedAt, options)}, then went back)` : null;
    return { step, mark, when, wentBack, attempts: attemptWords(step, mark, s.manualSteps) };
  });
  const stateWidth = Math.max(...rows.map((r) => r.step.state.length));
  const whenWidth = Math.max(...rows.map((r) => r.when.length));
  const stepWidth = Math.max(...rows.map((r) => r.step.step?.length ?? 0));
  const attemptsWidth = Math.max(...rows.map((r) => r.attempts.length));
  const laid = rows.map((r) => ({
    ...r,
    head: `  [${MARKS[r.mark]}] ${r.step.state.padEnd(stateWidth)}  KB ${r.step.kbSteps.padEnd(4)}  ${r.when.padEnd(whenWidth)}`,
    how: r.step.step
      ? `${r.step.step.padEnd(stepWidth)}  ${r.attempts.padEnd(attemptsWidth)}  ${r.step.durationMs === null ? '' : durationWords(r.step.durationMs)}`.trimEnd()
      : 'checked at start',
  }));
  const oneLine = laid.every((r) => `${r.head}  ${r.how}`.length <= width);
  const lines: string[] = [];
  for (const r of laid) {
    if (oneLine) lines.push(`${r.head}  ${r.how}`);
    else lines.push(r.head.trimEnd(), `${' '.repeat(6)}${r.how}`);
    if (r.wentBack) lines.push(`${' '.repeat(6)}${r.wentBack}`);
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
