import type { RunSituation } from '../domain/index.js';
import type { AlphaFrom, ErrorRecord } from '../errors/index.js';
import { stepOf, type RecoveryState, type StepName } from '../machines/recovery.order.js';
import type { StepError } from '../machines/recovery.types.js';
import type { LeaseRecord, RunPhase, RunTimer } from '../persistence/index.js';
import { nextWords, pendingWords, type WaitingFor } from '../present/next-words.js';
import type { ServerClaimView } from './claim-rule.js';
import { driverOf, livenessWords, type DriverView } from './lease-policy.js';
import { manualActionAt } from './manual-action.js';

/**
 * The one rule of where a run stands (its situation) and what the administrator does next.
 * `status`, `watch`, `list`, `history`, the diagram, the outcome of start/resume/confirm and
 * every `--json` read it from here, so no two screens can tell the same run two ways.
 */

/** What the rule reads of a run: its row, as `list` reads it too (no events needed). */
export interface RunHead {
  id: string;
  state: RecoveryState;
  phase: RunPhase;
  closedAt: string | null;
  manual: readonly StepName[];
  /** The run's Kmsdata: the manual steps name the real folder. */
  kmsdata: string;
  /** The startup disk given at the start (its path), if any. */
  startupDisk: string | null;
  lastError: StepError | null;
  /** How the alpha string of the last credential step was given (its facts), when it is known. */
  alphaFrom?: AlphaFrom | null;
}

export interface RunStanding {
  situation: RunSituation;
  /** True when the run rests: nothing happens until someone acts (everything but working and retrying). */
  rests: boolean;
  driver: DriverView;
  waitingFor: WaitingFor | null;
  /** The error the run rests with: a failed step's, or (waiting) what the check of a confirm found, else MANUAL_STEP_PENDING. */
  lastError: (ErrorRecord & { step?: string }) | null;
  /** The one next action, with its exact command; null when there is none (finished). */
  next: string | null;
}

export function situationOf(head: Pick<RunHead, 'state' | 'phase' | 'closedAt'>, driver: DriverView, timer: Pick<RunTimer, 'step' | 'nextAttemptAt'> | null): RunSituation {
  const live = driver.kind === 'live';
  // Who has the run when it is not resting by itself: its live driver, a holder that does not respond, or nobody.
  const held = (driven: 'working' | 'retrying'): RunSituation => live ? driven : driver.kind === 'silent' ? 'unresponsive' : 'interrupted';
  switch (head.phase) {
    case 'abandoned': return 'abandoned';
    // The clean-up after running: its driver's while it lives, takeover's when it does not respond (resume is refused then).
    case 'done': return head.closedAt !== null ? 'finished' : live ? 'working' : driver.kind === 'silent' ? 'unresponsive' : 'finishing';
    case 'waiting': return 'waiting';
    // A retry scheduled and not yet begun (its time is cleared when its attempt starts) belongs to the driver
    // whether or not its time has come: a late timer is not a failed step, and a dead driver's retry is resume's.
    case 'failed': return retryPending(head, timer) ? held('retrying') : 'failed';
    case 'working': return held('working');
  }
}

/** A retry of the run's current step is scheduled (retry-schedule.ts keeps it across a restart the same way). */
function retryPending(head: Pick<RunHead, 'state'>, timer: Pick<RunTimer, 'step' | 'nextAttemptAt'> | null): boolean {
  return timer?.nextAttemptAt != null && timer.step === stepOf(head.state);
}

/**
 * What a `resume` or `confirm` of the run needs on its command line to work as printed: the
 * startup disk it was started with, unless the operator gives the alpha string to the service.
 */
export function driveArgs(head: Pick<RunHead, 'manual' | 'startupDisk'>): string {
  if (head.startupDisk === null || head.manual.includes('startService')) return '';
  return ` --startup-disk ${/\s/.test(head.startupDisk) ? `"${head.startupDisk}"` : head.startupDisk}`;
}

function waitingAction(head: RunHead): WaitingFor | null {
  const step = stepOf(head.state);
  if (!step) return null;
  const action = manualActionAt(step, head.manual, head.kmsdata);
  return { kbSteps: action.kbSteps, words: action.words, confirm: action.confirm, command: `kms-recover confirm ${head.id} ${action.confirm}${driveArgs(head)}` };
}

/** Where the run stands now, and the next action: computed once, by the one rule. */
export function standingOf(head: RunHead, lease: LeaseRecord | null, timer: RunTimer | null, now: number = Date.now(), server: ServerClaimView | null = null): RunStanding {
  const driver = driverOf(lease, now);
  const situation = situationOf(head, driver, timer);
  const waitingFor = situation === 'waiting' ? waitingAction(head) : null;
  const step = stepOf(head.state);
  const lastError = situation === 'waiting'
    ? head.lastError ?? (waitingFor && step ? pendingWords(head.id, step, waitingFor) : null)
    : head.phase === 'failed' ? head.lastError : null;
  const next = head.closedAt === null && server?.superseded ? server.words : nextWords({
    runId: head.id, state: head.state, failedStep: head.phase === 'failed', situation,
    driver: driver.kind === 'live' ? { pid: driver.lease.pid, host: driver.lease.host } : null,
    unresponsiveWords: driver.kind === 'silent' ? livenessWords(driver.lease, { liveness: 'unresponsive', silentMs: driver.silentMs, seen: driver.seen }) : null,
    timer, retryWaits: timer?.nextAttemptAt ? Date.parse(timer.nextAttemptAt) > now : false, waitingFor, lastError: head.lastError, driveArgs: driveArgs(head),
    alphaFrom: head.alphaFrom ?? null,
  });
  return { situation, rests: situation !== 'working' && situation !== 'retrying', driver, waitingFor, lastError, next };
}
