import type { RunStatus } from '../recovery/run-status.js';
import { timeWords } from '../present/time-words.js';
import { failureWords } from '../present/failure-words.js';
import { printLine } from './output.js';
import { printEnding } from './run-words.js';
import { checklistLines, headLines, workLines, type ScreenOptions } from './status-screen.js';

/** `kms-recover status` for a person: loaded by the command only then (`--json` needs none of the screen's words). */
export function printStatus(s: RunStatus, logPath: string, options: ScreenOptions): void {
  for (const line of headLines(s, options)) printLine(line);
  printLine();
  for (const line of checklistLines(s, options)) printLine(line);
  printLine();
  for (const d of s.drift) {
    printLine(`Drift:   ${timeWords(d.at, options)} ${d.service ?? 'the service'} was ${d.serviceState ?? 'running'} before ${d.step ?? 'a step'} (a reboot?); it was stopped again`);
  }
  for (const t of s.takeovers) {
    const how = t.liveness === 'dead' ? 'which had died' : 'which was unresponsive (no heartbeat; taken over with your confirmation)';
    printLine(`Lease:   ${timeWords(t.at, options)} taken over from pid ${t.fromPid ?? '?'} on ${t.fromHost ?? '?'}, ${how}`);
  }
  for (const line of workLines(s, options)) printLine(line);
  // A failed run's error is said once, by the outcome line below (the step, its words, the code, the message).
  if (s.lastError && s.situation !== 'waiting' && s.situation !== 'failed') {
    printLine(`Last error${s.lastErrorAt ? ` at ${timeWords(s.lastErrorAt, options)}` : ''}: ${failureWords(s.current, s.lastError)}: ${s.lastError.message}`);
  }
  if (s.manualSteps.length) printLine(`Manual:  ${s.manualSteps.join(', ')} (done by you, then kms-recover confirm)`);
  printLine(`Log:     ${logPath}; ${s.eventCount} events: kms-recover history ${s.runId}`);
  printLine();
  printEnding(s);
}
