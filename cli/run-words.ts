import { kbLabel } from '../machines/recovery.kb-steps.js';
import type { RunStatus } from '../recovery/run-status.js';
import { durationWords, timeWords } from '../present/time-words.js';
import { printLine, screenWidth } from './output.js';
import { labelled } from '../present/wrap.js';
import { KMS_SERVICE_NAME } from '../host/types.js';
import { settleProofWords } from '../present/settle-words.js';
import { progressWords } from './progress-words.js';
import { failureWords } from '../present/failure-words.js';

export { SITUATION_WORDS } from '../present/situation-words.js';

function at(s: RunStatus): string {
  return s.current ? `${kbLabel(s.current.kbSteps)} (${s.current.step})` : s.state;
}

/** The one line that ends `status` and `watch`: where the run rests and the command that goes on. */
export function outcomeLine(s: RunStatus): string {
  const run = `Run ${s.runId}`;
  if (s.server?.superseded && s.situation !== 'working') return `${run} is stale: ${s.server.words}`;
  switch (s.situation) {
    case 'finished': return `${run} is running: ${provedWords(s)}.`;
    case 'working': return `${run} is working on ${at(s)}.`;
    case 'retrying': return `${run} waits to retry ${at(s)}.`;
    case 'waiting': return `${run} is waiting for you at ${s.waitingFor ? kbLabel(s.waitingFor.kbSteps) : at(s)}: a manual step.${s.lastError?.code === 'MANUAL_STEP_UNVERIFIED' ? ` Your confirm was checked: ${s.lastError.message}.` : ''}`;
    case 'interrupted': return `${run} was interrupted during ${at(s)}: nothing is lost; run ${s.resumeCommand}`;
    case 'unresponsive': return `${run} is held at ${at(s)} by a process that does not respond: ${s.next ?? `kms-recover status ${s.runId}`}`;
    case 'failed': return `${run} stopped at ${s.state}: ${failureWords(s.current, s.lastError)}${s.lastError ? `: ${s.lastError.message}` : ''}`;
    case 'finishing': return `${run}: the KMS runs; its clean-up was cut off.`;
    case 'abandoned': return `${run} was abandoned; nothing more happens in it.`;
  }
}

/** `recovery complete: MSExchangeKMS has run for 15 s on the restored database`: what the settle window proved, not more. */
export function provedWords(s: Pick<RunStatus, 'settled'>, service = KMS_SERVICE_NAME): string {
  const proved = settleProofWords(service, s.settled);
  return proved ? `recovery complete: ${proved}` : 'recovery complete';
}

/** The progress of the step under way (or cut off), with when it was last written. */
export function progressLineOf(s: RunStatus, options: { utc?: boolean } = {}): string | null {
  const p = s.progress;
  if (!p) return null;
  const words = progressWords(p.activity, p, { bytesPerSecond: p.bytesPerSecond, remainingMs: s.situation === 'working' ? p.remainingMs : null });
  return `${words} (as of ${timeWords(p.updatedAt, options)})`;
}

/** Who drives the run, said once, consistently with the situation. */
export function driverLine(s: RunStatus, options: { utc?: boolean } = {}): string {
  const d = s.driver;
  const since = d.since ? timeWords(d.since, options) : '?';
  switch (d.kind) {
    case 'nobody': return 'Driven by: nobody';
    case 'live': return `Driven by: pid ${d.pid} on ${d.host}, since ${since}`;
    case 'dead': return `Driven by: nobody (pid ${d.pid} on ${d.host}, which held the run since ${since}, is gone)`;
    case 'silent': return `Driven by: pid ${d.pid} on ${d.host}, unresponsive: no heartbeat for ${durationWords(d.silentMs ?? 0)} (since ${since})`;
  }
}

/** What to do next, said once: a manual step's KB words and its one command, or the next action. */
export function printNext(s: RunStatus): void {
  if (s.waitingFor) {
    printLine(`Waiting for you: do ${kbLabel(s.waitingFor.kbSteps)} by hand: ${s.waitingFor.words}`);
    nextLine(s.waitingFor.command);
    return;
  }
  nextLine(s.next ?? 'nothing; the original Key Management Server is running.');
}

/** `Next: <what>`; a bare command that does not fit beside the label starts whole on a line of its own. */
function nextLine(what: string): void {
  if (/^(npx )?\S*kms-recover /.test(what)) for (const line of labelled('Next:', what, screenWidth())) printLine(line);
  else printLine(`Next: ${what}`);
}

/** How `status` and `watch` end: the outcome line, then the next action where the line does not already say it. */
export function printEnding(s: RunStatus): void {
  printLine(outcomeLine(s));
  if (s.situation !== 'finished' && s.situation !== 'interrupted') printNext(s);
}
