import { KB_STEPS, kbLabel } from '../machines/recovery.kb-steps.js';
import { isStepName, orderOf, RECOVERY_STATES, stateAfter, stateOfStep, type StepName } from '../machines/recovery.order.js';
import type { EventRecord, StepAttemptRecord } from '../persistence/index.js';
import { eventWords } from '../present/event-words.js';
import type { RunStatus } from './run-status.js';

/*
 * A run's time line, for the report's chart: one row per KB step, each attempt of its step a bar,
 * the waits for the operator, the back-offs before retries, the settle window, and the spans in
 * which no process drove the run (an interruption: from the cut-off attempt's last record to the
 * next driver's first); events that are moments (a takeover, drift found, going back) are marks.
 */

export const BAR_KINDS = ['done', 'error', 'cut-off', 'under-way', 'operator', 'backoff', 'settle', 'no-driver'] as const;
export type BarKind = (typeof BAR_KINDS)[number];
export type MarkKind = 'created' | 'takeover' | 'drift' | 'rewind' | 'confirm' | 'abandoned' | 'finished';

export interface TimelineBar { row: number; kind: BarKind; from: string; to: string; label: string }
export interface TimelineMark { row: number | null; kind: MarkKind; at: string; label: string }

export interface ReportTimeline {
  start: string;
  end: string;
  rows: { state: string; kbLabel: string; label: string }[];
  bars: TimelineBar[];
  marks: TimelineMark[];
}

const ROW_LABELS = ['reinstalled (checked)', 'stop the service', 'clear Kmsdata', 'restore Kmsdata', 'give the alpha string', 'start the service'];

/** The row of a step: the KB step it performs (stopService: KB 2, the row of `stopped`). */
function rowOf(step: StepName): number {
  return orderOf(stateAfter(stateOfStep(step)));
}

/** `now`: when the report is made; an open run's time line runs until then (an interruption lasts until someone resumes). */
export function reportTimeline(status: RunStatus, events: EventRecord[], attempts: StepAttemptRecord[], now: string): ReportTimeline {
  const closed = status.closedAt ?? (status.situation === 'finished' ? status.updatedAt : null);
  const end = closed ?? (Date.parse(now) > Date.parse(status.updatedAt) ? now : status.updatedAt);
  const bars: TimelineBar[] = [];
  const marks: TimelineMark[] = [];
  const seqOf = new Map<string, number>();
  for (const e of events) if (e.event === 'step.started') seqOf.set(`${String(e.detail?.step)}#${String(e.detail?.attempt)}`, e.seq);

  for (const a of attempts) {
    const row = rowOf(a.step);
    const label = `${a.step}, attempt ${a.attempt}`;
    if (a.outcome !== null && a.endedAt) {
      bars.push({ row, kind: a.outcome, from: a.startedAt, to: a.endedAt, label: `${label}: ${a.outcome === 'done' ? 'done' : 'failed'}` });
      continue;
    }
    const driven = !status.rests && status.current?.step === a.step && a === attempts.findLast((b) => b.step === a.step);
    if (driven) {
      bars.push({ row, kind: 'under-way', from: a.startedAt, to: end, label: `${label}: under way` });
      continue;
    }
    // Cut off: its last record, then nobody until the next driver's first (or until now).
    const startSeq = seqOf.get(`${a.step}#${a.attempt}`) ?? 0;
    const next = events.find((e) => e.seq > startSeq && isDriverArrival(e));
    const last = events.filter((e) => e.seq >= startSeq && (!next || e.seq < next.seq)).at(-1);
    const lastAt = last?.at ?? a.startedAt;
    bars.push({ row, kind: 'cut-off', from: a.startedAt, to: lastAt, label: `${label}: cut off (its process ended before the step did)` });
    bars.push({ row, kind: 'no-driver', from: lastAt, to: next?.at ?? end, label: next ? 'interrupted: no process drove the run until it was resumed' : 'interrupted: no process drives the run' });
  }

  for (const [i, e] of events.entries()) {
    const step = stepOfEvent(e);
    if (e.detail?.phase === 'waiting' && step) {
      const until = events.slice(i + 1).find((n) => n.event === 'CONFIRM' || n.event === 'manual.confirmed' || n.event === 'REWIND' || n.event === 'run.abandoned');
      bars.push({ row: rowOf(step), kind: 'operator', from: e.at, to: until?.at ?? end, label: `waiting for the operator to do ${step} by hand` });
    }
    if (e.event === 'retry.scheduled' && isStepName(e.detail?.step)) {
      const due = typeof e.detail?.nextAttemptAt === 'string' ? e.detail.nextAttemptAt
        : new Date(Date.parse(e.at) + (typeof e.detail?.delayMs === 'number' ? e.detail.delayMs : 0)).toISOString();
      bars.push({ row: rowOf(e.detail.step), kind: 'backoff', from: e.at, to: due, label: eventWords(e) });
    }
    if (e.event === 'service.start-requested') {
      const ended = events.slice(i + 1).find((n) => /^xstate\.(done|error)\.actor\.startService$/.test(n.event));
      bars.push({ row: rowOf('startService'), kind: 'settle', from: e.at, to: ended?.at ?? end, label: 'the started service watched for the settle window' });
    }
    const mark = markOf(e);
    if (mark) marks.push({ row: mark.row ?? (step ? rowOf(step) : null), kind: mark.kind, at: e.at, label: eventWords(e) });
  }

  return {
    start: status.createdAt,
    end,
    rows: RECOVERY_STATES.map((state, i) => ({ state, kbLabel: kbLabel(KB_STEPS[state].kbSteps), label: ROW_LABELS[i] ?? state })),
    bars,
    marks,
  };
}

/** An event that shows a (new) process came to drive the run. */
function isDriverArrival(e: EventRecord): boolean {
  return e.event === 'lease.taken-over' || e.event === 'step.started' || e.event === 'manual.verifying' || e.event === 'REWIND' || e.event === 'run.abandoned';
}

function stepOfEvent(e: EventRecord): StepName | null {
  const m = /^xstate\.(?:done|error)\.actor\.(.+)$/.exec(e.event)?.[1];
  if (isStepName(m)) return m;
  return isStepName(e.detail?.step) ? e.detail.step : null;
}

function markOf(e: EventRecord): { kind: MarkKind; row?: number | null } | null {
  switch (e.event) {
    case 'run.created': return { kind: 'created', row: 0 };
    case 'lease.taken-over': return { kind: 'takeover', row: null };
    case 'drift.service-running':
    case 'drift.kmsdata': return { kind: 'drift' };
    case 'REWIND': return { kind: 'rewind', row: null };
    case 'CONFIRM':
    case 'manual.confirmed': return { kind: 'confirm' };
    case 'run.abandoned': return { kind: 'abandoned', row: null };
    case 'run.finished': return { kind: 'finished', row: RECOVERY_STATES.length - 1 };
    default: return null;
  }
}
