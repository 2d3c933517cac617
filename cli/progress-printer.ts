import { codeWords, type ErrorRecord } from '../errors/index.js';
import { KB_STEPS, orderOf, RECOVERY_STATES, type RecoveryState, type StepName } from '../machines/index.js';
import type { ProgressSink } from '../recovery/progress.js';
import { STALL_MS, workRate } from '../recovery/work-progress.js';
import { formatBytes } from '../present/byte-words.js';
import { fitted } from './output.js';
import { progressWords } from './progress-words.js';
import { settleProofDetails, settleProofWords } from '../present/settle-words.js';
import { countWords } from '../present/count-words.js';

const STEP_COUNT = RECOVERY_STATES.length - 1;

/**
 * One short line per reached state on stderr, numbered like the KB's steps. On a terminal, a long
 * step also shows one live line (files, bytes, rate, time left), rewritten in place and cleared
 * before the next line; without a terminal (a log, a pipe) there is no live line.
 */
/** What the printer writes to: stderr, a terminal or not. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export function progressPrinter(serviceName: string, kmsdata: () => string, stderr: ProgressStream = process.stderr): ProgressSink {
  const live = stderr.isTTY === true;
  let showing = false;
  // Work that stops reporting (a disk that hangs) is said to have stalled, instead of its last time left.
  let stallWatch: NodeJS.Timeout | null = null;
  const quiet = (): void => {
    if (stallWatch) clearInterval(stallWatch);
    stallWatch = null;
  };
  const draw = (text: string): void => {
    const width = stderr.columns ? stderr.columns - 1 : text.length;
    stderr.write(`\r\u001b[K${text.slice(0, width)}`);
    showing = true;
  };
  const line = (text: string): void => {
    quiet();
    if (showing) stderr.write('\r\u001b[K');
    showing = false;
    stderr.write(`${fitted(text, stderr)}\n`);
  };
  return {
    stepStarted(_state, step: StepName, attempt) {
      if (attempt > 1) line(`      ${step}: attempt ${attempt}`);
    },
    working(_step, activity, progress, elapsedMs) {
      if (!live) return;
      quiet();
      const rate = workRate(progress, elapsedMs, activity);
      draw(`      ${progressWords(activity, progress, rate)}`);
      if (progress.filesDone >= progress.filesTotal) return;
      const last = { ...progress };
      const at = Date.now();
      stallWatch = setInterval(() => {
        const stalledMs = Date.now() - at;
        if (stalledMs >= STALL_MS) draw(`      ${progressWords(activity, { ...last, stalledMs }, rate)}`);
      }, 1000);
      stallWatch.unref();
    },
    reached(state: RecoveryState, facts: unknown) {
      const index = orderOf(state);
      const label = `[${index}/${STEP_COUNT}] ${state.padEnd(14)} KB step ${KB_STEPS[state].kbSteps}:`;
      line(`${label} ${describe(state, factsRecord(facts), serviceName, kmsdata())}`);
    },
    stepFailed(state: RecoveryState, error: ErrorRecord) {
      // A manual step is not a failure: what to do is said once, in the outcome below.
      if (error.code === 'MANUAL_STEP_PENDING') line(`[?]   ${state.padEnd(14)} waiting for you: a manual step`);
      else line(`[!]   ${state.padEnd(14)} ${codeWords(error.code)}: ${error.message}`);
    },
    note(message: string) {
      line(`      ${message}`);
    },
  };
}

/** Where the alpha string came from, as far as the tool knows it: it cannot tell whose it is. */
const CREDENTIAL_SOURCE: Record<string, string> = {
  'startup-disk': 'the alpha string read from the startup disk (Kmspwd.ini) is given as start parameter',
  environment: 'the alpha string from KMS_ALPHA_STRING is given as start parameter',
  prompt: 'the alpha string typed at the prompt is given as start parameter',
  operator: 'the alpha string is yours to type into the service\'s start parameters (a manual step)',
};

/** The facts of a step, as the lines read them (a step that reported none: nothing to read). */
function factsRecord(facts: unknown): Record<string, unknown> {
  return typeof facts === 'object' && facts !== null ? { ...facts } : {};
}

/** ` on computer KMS01 (the original's name)`: the KB recovers KMS to a computer with the same name. */
function computerWords(facts: Record<string, unknown>): string {
  if (typeof facts.computerName !== 'string') return '';
  return ` on computer ${facts.computerName}${typeof facts.originalName === 'string' ? ' (the original\'s name, as --original-name requires)' : ' (KB Q198814: it must have the ORIGINAL server\'s name; --original-name checks it)'}`;
}

function describe(state: RecoveryState, facts: Record<string, unknown>, service: string, kmsdata: string): string {
  switch (state) {
    case 'reinstalled':
      return `${service} is installed${computerWords(facts)}; backup holds ${String(facts.backupFiles)} files (${formatBytes(Number(facts.backupBytes))}); run ${String(facts.runId)}`;
    case 'stopped':
      return `${service} is stopped`;
    case 'cleared':
      // A manual clear (the operator deleted them) moved nothing aside: found empty is all there is to say.
      return typeof facts.removed === 'number' && facts.removed > 0
        ? `emptied ${kmsdata}: its ${countWords(facts.removed, 'top-level entry', 'top-level entries')} ${facts.removed === 1 ? 'is' : 'are'} kept in a quarantine folder beside it until the KMS runs`
        : `${kmsdata} is empty`;
    case 'restored':
      return facts.alreadyRestored
        ? `Kmsdata already matched the backup (${String(facts.fileCount)} files)`
        : `${String(facts.fileCount)} files (${formatBytes(Number(facts.totalBytes))}) restored and verified against the backup`;
    case 'credential-set':
      return CREDENTIAL_SOURCE[String(facts.source)] ?? 'the alpha string is given as start parameter';
    case 'running': {
      const proved = settleProofWords(service, facts.settle);
      const details = settleProofDetails(facts.settle);
      return proved ? `${proved}${details ? ` (${details})` : ''}` : `${service} is running: ${KB_STEPS.running.reached}`;
    }
  }
}
