import { setTimeout as sleep } from 'node:timers/promises';
import type { RunStatus } from '../../recovery/run-status.js';
import { timeWords } from '../../present/time-words.js';
import { fitted, printJson, printLine, screenWidth } from '../output.js';
import { wrap } from '../../present/wrap.js';
import { printedStatus } from '../printed-commands.js';
import { printEnding } from '../run-words.js';
import { openSession } from '../session.js';
import { checklistLines, headLines, workLines, type ScreenOptions } from '../status-screen.js';
import { loadRunView, namedOrLatestRun } from '../../recovery/run-view.js';

export interface WatchCommandOptions {
  db?: string;
  json?: boolean;
  utc?: boolean;
  /** Print the screen (or --json's status) once and end: what scripts use. */
  once?: boolean;
}

/** How often the database is read again. */
const POLL_MS = 500;

/** The exit status of a watch stopped by Ctrl-C (the run itself is untouched). */
const STOPPED_BY_CTRL_C = 130;

/**
 * A live checklist of a run, from any console: it only reads the database (opened read-only) and
 * never touches the run. On a terminal the screen is redrawn in place; elsewhere (a pipe, a log)
 * each change is printed once. It follows the run until it is closed (finished, abandoned) or,
 * once a driver worked on it, until it rests again; a run that rests when watching begins
 * (interrupted, failed, waiting for a manual step) is watched until someone resumes or confirms
 * it from another console, and that drive is followed. `--once`: one look, then the end. It ends
 * with the outcome line of `status`, exit 0; Ctrl-C stops the watching (exit 130), not the run.
 */
export async function watchCommand(runId: string | undefined, options: WatchCommandOptions): Promise<void> {
  const session = openSession(options.db, { mustExist: true });
  const stop = new AbortController();
  const onCtrlC = () => stop.abort();
  process.on('SIGINT', onCtrlC);
  try {
    const tty = process.stdout.isTTY === true && !options.json;
    let shown: string[] = [];
    const load = (id: string | undefined) => loadRunView(session, namedOrLatestRun(session.store, id, session.dbPath));
    let status: RunStatus = load(runId);
    const follow = new Following(status);
    for (;;) {
      const ends = options.once === true || follow.endsAt(status);
      if (!options.json) shown = draw(status, shown, tty, { ...options, waiting: ends ? null : awaitedCommand(status) });
      if (ends) break;
      await sleep(POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) break;
      status = load(status.runId);
    }
    if (options.json) printJson(printedStatus(status));
    else {
      printLine();
      if (stop.signal.aborted) printLine('Stopped watching (Ctrl-C); the run itself is not touched.');
      printEnding(status);
    }
    if (stop.signal.aborted) process.exitCode = STOPPED_BY_CTRL_C;
  } finally {
    process.off('SIGINT', onCtrlC);
    session.close();
  }
}

/**
 * When watching ends: at once for a closed run (finished, abandoned); else at the first rest
 * after a driver worked on the run since watching began: seen driven, or events recorded between
 * two looks (a drive shorter than a poll, a confirm whose check failed). A takeover alone is no
 * drive: after it, the run still waits for its resume.
 */
export class Following {
  private driven: boolean;

  constructor(private readonly first: RunStatus) {
    this.driven = !first.rests;
  }

  endsAt(now: RunStatus): boolean {
    if (now.situation === 'finished' || now.situation === 'abandoned') return true;
    if (!now.rests || workRecorded(now) !== workRecorded(this.first)) this.driven = true;
    return this.driven && now.rests;
  }
}

/** The run's events other than takeovers: a drive, a confirm, a policy change adds to them. */
function workRecorded(s: RunStatus): number {
  return s.eventCount - s.takeovers.length;
}

/** The command that picks the resting run up (from another console): watching waits for it. */
export function awaitedCommand(s: RunStatus): string | null {
  if (!s.rests || s.situation === 'finished' || s.situation === 'abandoned') return null;
  if (s.server?.superseded) return `kms-recover abandon ${s.runId}`;
  if (s.situation === 'waiting' && s.waitingFor) return s.waitingFor.command;
  if (s.situation === 'unresponsive') return `kms-recover takeover ${s.runId}, then ${s.resumeCommand}`;
  return s.resumeCommand;
}

/** The screen of one look at the run; returns what is now shown. */
function draw(s: RunStatus, before: string[], tty: boolean, options: ScreenOptions & { waiting: string | null }): string[] {
  const screen = { ...options, width: screenWidth(), still: !tty };
  const body = [...headLines(s, screen), '', ...checklistLines(s, screen), '', ...workLines(s, screen)];
  if (options.waiting) {
    // A failed step is resumed once its cause is dealt with: status says what failed and what to do.
    const first = s.situation === 'failed' ? ` once the cause is dealt with (kms-recover status ${s.runId} says what failed),` : '';
    body.push(`Watching: nobody drives the run;${first} when someone runs ${options.waiting} in any console, this screen follows it`);
  }
  if (tty) {
    const title = `kms-recover watch ${s.runId}: ${timeWords(new Date().toISOString(), options)} (Ctrl-C stops watching, not the run)`;
    // The title names the screen; the body as printLine prints: its commands as they work here, wrapped to the terminal.
    const lines = [...wrap(title, screen.width), '', ...body.map((line) => fitted(line, process.stdout))];
    process.stdout.write(`\u001b[H\u001b[2J${lines.join('\n')}\n`);
    return body;
  }
  // Not a terminal: the first screen whole, then only the lines that changed.
  const changed = before.length === 0 ? body : body.filter((line, i) => line !== '' && line !== before[i]);
  for (const line of changed) printLine(line);
  return body;
}
