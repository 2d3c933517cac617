import type { RunReport } from '../recovery/report-facts.js';
import { formatBytes } from '../present/byte-words.js';
import { STEP_MOMENTS } from '../present/failure-words.js';
import { countWords } from '../present/count-words.js';
import { settleProofDetails, settleProofWords } from '../present/settle-words.js';
import { SITUATION_WORDS } from '../present/situation-words.js';
import { durationWords, localTime, utcOffset } from '../present/time-words.js';

/*
 * The incident report as sections of facts, tables and sentences, written once: the HTML and
 * the Markdown renderers draw the same document, so the two say the same. The chart of the time
 * line and the overview diagram are placed by the renderers where the document says.
 */

export interface FactRow { label: string; value: string; evidence?: string }
export type Block =
  | { kind: 'facts'; rows: FactRow[] }
  | { kind: 'table'; head: string[]; rows: string[][]; /** Column widths in percent (HTML). */ widths?: number[] }
  | { kind: 'text'; text: string }
  | { kind: 'diagram' }
  | { kind: 'timeline' };

export interface Section { id: string; title: string; blocks: Block[] }

export type Tone = 'ok' | 'warn' | 'bad' | 'info';

export interface ReportDocument {
  title: string;
  /** The run's standing in one line, at the top: recovered, interrupted, failed, waiting, abandoned. */
  standing: { tone: Tone; words: string };
  /** How times are written: local, with the offset said once. */
  timeNote: string;
  sections: Section[];
}

const TONE: Record<RunReport['run']['situation'], Tone> = {
  finished: 'ok', finishing: 'warn', working: 'info', retrying: 'warn', waiting: 'warn',
  interrupted: 'warn', unresponsive: 'warn', failed: 'bad', abandoned: 'bad',
};

const OUTCOME_WORDS: Record<ReportAttemptOutcome, string> = {
  done: 'done', error: 'failed', 'cut-off': 'cut off (its process ended)', 'under-way': 'under way',
};
type ReportAttemptOutcome = RunReport['steps'][number]['attempts'][number]['outcome'];

const STATUS_WORDS: Record<RunReport['steps'][number]['status'], string> = {
  done: 'done', working: 'not done yet', waiting: 'waiting for the administrator', failed: 'failed', pending: 'not reached',
};

export function reportDocument(r: RunReport, events: { at: string; words: string }[]): ReportDocument {
  const t = (iso: string | null) => (iso ? localTime(iso) : '-');
  return {
    title: `Recovery of the Key Management Server on ${r.server.computerName ?? r.run.host}: run ${r.run.id}`,
    standing: { tone: TONE[r.run.situation], words: standingWords(r) },
    timeNote: `Times are the local time of the computer that made this report (${utcOffset(r.generatedAt)}).`,
    sections: [
      {
        id: 'summary', title: 'Summary',
        blocks: [{
          kind: 'facts', rows: [
            { label: 'Run', value: `${r.run.id} (${SITUATION_WORDS[r.run.situation]}; state ${r.run.state})` },
            { label: 'Server', value: `${r.server.computerName ?? 'not recorded'}${r.server.originalName ? ` (checked against the original's name, ${r.server.originalName})` : ''}`, evidence: 'the computer name read by the start checks' },
            { label: 'Service', value: r.server.serviceName },
            { label: 'Kmsdata', value: r.server.kmsdata },
            { label: 'Backup', value: `${r.backup.folder}: ${countWords(r.backup.files, 'file')}, ${formatBytes(r.backup.bytes)}` },
            { label: 'Started', value: t(r.run.createdAt) },
            r.outcome.recoveredAt
              ? { label: 'Recovered', value: `${t(r.outcome.recoveredAt)}, ${durationWords(Date.parse(r.outcome.recoveredAt) - Date.parse(r.run.createdAt))} after the start` }
              : { label: 'Last change', value: t(r.run.updatedAt) },
            ...(r.run.abandoned ? [{ label: 'Abandoned', value: `${t(r.run.abandoned.at)}${r.run.abandoned.reason ? `: ${r.run.abandoned.reason}` : ''}` }] : []),
            ...(r.outcome.lastError ? [{ label: 'Last error', value: errorWords(r.outcome.lastError) }] : []),
            { label: 'On the way', value: onTheWay(r) },
            { label: 'Next', value: r.outcome.next ?? 'nothing: the original Key Management Server is running' },
          ],
        }],
      },
      {
        id: 'timeline', title: 'Time line',
        blocks: [{ kind: 'timeline' }, { kind: 'text', text: 'Each bar is one attempt of a KB step, from its start to its end; hatched spans are waits (for the administrator, or before an automatic retry) and interruptions (no process drove the run); the settle window is the watch of the started service.' }],
      },
      { id: 'overview', title: 'The recovery at a glance', blocks: [{ kind: 'diagram' }] },
      {
        id: 'steps', title: 'The KB steps',
        blocks: [{
          kind: 'table', head: ['KB step', 'what it does', 'result', 'attempts'], widths: [13, 42, 22, 23],
          rows: r.steps.map((s) => [s.kbLabel, s.reached, s.status === 'done' ? `done ${t(s.reachedAt)}` : STATUS_WORDS[s.status], s.step ? attemptsWords(s.attempts, t) : 'checked at the start']),
        }],
      },
      { id: 'proved', title: 'What was proved', blocks: [{ kind: 'facts', rows: provedRows(r, t) }] },
      { id: 'deleted', title: 'What was deleted, and what was kept', blocks: deletedBlocks(r, t) },
      { id: 'drivers', title: 'Who drove it', blocks: driverBlocks(r, t) },
      {
        id: 'errors', title: 'Errors met',
        blocks: r.errors.length === 0 ? [{ kind: 'text', text: 'None: no step failed.' }]
          : [{ kind: 'table', head: ['time', 'step', 'attempt', 'what happened'], widths: [20, 14, 9, 57], rows: r.errors.map((e) => [t(e.at), e.step ?? '-', e.attempt === null ? '-' : String(e.attempt), errorWords(e)]) }],
      },
      {
        id: 'about', title: 'About this report',
        blocks: [{
          kind: 'facts', rows: [
            { label: 'Made by', value: `${r.tool.name} ${r.tool.version} (machine v${r.tool.machineVersion}, definition ${r.tool.definitionHash}) at ${t(r.generatedAt)}` },
            { label: 'The run', value: `recorded by machine v${r.run.machineVersion}, definition ${r.run.definitionHash}, ${r.run.adapter} adapter, on ${r.run.host}` },
            { label: 'Database', value: r.run.database, evidence: `${countWords(r.run.eventCount, 'event')} in the run's log; the report only reads it` },
            { label: 'Secrets', value: 'the alpha string is never recorded, so it is in no report' },
          ],
        }],
      },
      { id: 'log', title: 'Event log', blocks: [{ kind: 'table', head: ['time', 'what happened'], widths: [20, 80], rows: events.map((e) => [t(e.at), e.words]) }] },
    ],
  };
}

function standingWords(r: RunReport): string {
  const at = r.steps.find((s) => s.status !== 'done' && s.status !== 'pending');
  const where = at ? `${at.kbLabel} (${at.step ?? at.state})` : r.run.state;
  switch (r.run.situation) {
    case 'finished': return `Recovered: ${settleProofWords(r.server.serviceName, r.settle) ?? 'the service runs'}.`;
    case 'finishing': return `Recovered, but its clean-up was cut off: ${settleProofWords(r.server.serviceName, r.settle) ?? 'the service runs'}.`;
    case 'working': return `In progress: working on ${where}. This report is a snapshot.`;
    case 'retrying': return `In progress: waiting to retry ${where}.`;
    case 'waiting': return `Not recovered yet: waiting for the administrator at ${where}.`;
    case 'interrupted': return `Not recovered yet: interrupted during ${where}; no process is running it.`;
    case 'unresponsive': return `Not recovered yet: held at ${where} by a process that does not respond.`;
    case 'failed': return `Not recovered: ${where} failed${r.outcome.lastError ? ` (${errorWords(r.outcome.lastError)})` : ''}.`;
    case 'abandoned': return `Abandoned at ${r.run.state}: not recovered by this run.`;
  }
}

/** What the run met before it got where it is: failed attempts, interruptions, takeovers, drift, waits for the administrator. */
function onTheWay(r: RunReport): string {
  const cut = r.steps.flatMap((s) => s.attempts).filter((a) => a.outcome === 'cut-off').length;
  const waits = r.timeline.bars.filter((b) => b.kind === 'operator').length;
  const parts = [
    r.errors.length ? countWords(r.errors.length, 'failed attempt') : '',
    cut ? `${countWords(cut, 'interruption')} (an attempt cut off)` : '',
    r.takeovers.length ? countWords(r.takeovers.length, 'takeover') : '',
    r.drift.length ? `${countWords(r.drift.length, 'drift')} found and redone` : '',
    waits ? countWords(waits, 'wait', 'waits') + ' for the administrator' : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'nothing: every step succeeded at its first attempt';
}

function errorWords(e: { code: string; message: string }): string {
  return `${e.message} (${e.code})`;
}

function attemptsWords(attempts: RunReport['steps'][number]['attempts'], t: (iso: string | null) => string): string {
  if (attempts.length === 0) return 'none';
  return attempts.map((a) => `#${a.attempt} ${OUTCOME_WORDS[a.outcome]}${a.endedAt ? ` in ${durationWords(Date.parse(a.endedAt) - Date.parse(a.startedAt))}` : ` (began ${t(a.startedAt)})`}`).join('; ');
}

function provedRows(r: RunReport, t: (iso: string | null) => string): FactRow[] {
  const rows: FactRow[] = [
    {
      label: 'The backup', value: `${countWords(r.backup.files, 'file')}, ${formatBytes(r.backup.bytes)}, read before anything changed and never written`,
      evidence: `manifest digest (SHA-256 over every file's path, size and SHA-256): ${r.backup.digest}`,
    },
    {
      label: 'Kmsdata is the service\'s own', value: `${r.server.kmsdata}, the folder ${r.server.serviceName}'s configuration names, checked at the start and again on every resume and confirm`,
      evidence: r.server.kmsdataIdentity ? `pinned identity: device ${r.server.kmsdataIdentity.dev}, inode ${r.server.kmsdataIdentity.ino}` : 'no identity recorded (a run from before folders were pinned)',
    },
    {
      label: 'The computer', value: r.server.computerName ?? 'not recorded',
      evidence: r.server.originalName ? `equal to the original's name given with --original-name (${r.server.originalName})` : 'not compared with the original server\'s name (--original-name was not given)',
    },
    {
      label: 'The claim', value: r.server.claim.file ? `${r.server.claim.file}, taken ${t(r.server.claim.takenAt)}` : 'not recorded',
      evidence: r.server.claim.recoveredBefore ? `the server had been recovered before by run ${r.server.claim.recoveredBefore}` : 'no earlier recovery of this server was recorded beside Kmsdata',
    },
  ];
  const stopped = r.steps.find((s) => s.step === 'stopService');
  if (stopped?.status === 'done') rows.push({ label: 'The service stopped', value: `${r.server.serviceName} stopped ${t(stopped.reachedAt)}`, evidence: `queried from ${r.run.adapter === 'windows' ? 'the Windows service control manager' : 'the simulator\'s service manager'}, and again before the clear and before the alpha string was given` });
  const moved = r.clear.moved;
  if (r.clear.quarantine || moved.length) {
    rows.push({
      label: 'Kmsdata cleared', value: `${countWords(moved.length, 'top-level entry', 'top-level entries')} of the reinstall moved into ${r.clear.quarantine ?? 'the quarantine'}`,
      evidence: 'each entry recorded in the database (name, kind, size, SHA-256) before it was moved',
    });
  }
  if (r.restore) {
    rows.push({
      label: 'Kmsdata restored', value: r.restore.alreadyRestored ? `Kmsdata already matched the backup (${countWords(r.restore.files, 'file')})` : `${countWords(r.restore.files, 'file')}, ${formatBytes(r.restore.bytes)}, copied and verified file by file, ${t(r.restore.at)}`,
      evidence: r.restore.matchesBackup ? `the restored tree's digest equals the backup manifest's: ${r.restore.digest}` : `DIFFERS from the backup: ${r.restore.mismatches.join('; ') || r.restore.digest}`,
    });
  }
  for (const c of r.rechecks) {
    rows.push({
      label: 'Kmsdata checked again', value: `${t(c.at)}, before ${c.step ? STEP_MOMENTS[c.step] : 'a step'}: ${countWords(c.files, 'file')} equal to the backup`,
      evidence: c.by === 'identity' ? 'each file still the one the restore wrote (same device, inode, size, modification and change times); its bytes were not read again'
        : 'each file read again: its size and SHA-256 equal to the backup manifest\'s',
    });
  }
  if (r.credential) rows.push({ label: 'The alpha string', value: `given as the service's start parameter ${t(r.credential.at)}, from ${sourceWords(r.credential.source)}`, evidence: `${r.settle ? 'the KMS accepted it: it started and kept running on it (below)' : 'not proved: the KMS has not run with it yet'}; the string itself is never recorded` });
  if (r.settle) {
    rows.push({
      label: 'The KMS runs', value: settleProofWords(r.server.serviceName, r.settle) ?? 'the service reported running',
      evidence: settleProofDetails(r.settle) ?? 'the service was queried once',
    });
  }
  for (const d of r.drift) rows.push({ label: 'Drift found and redone', value: `${t(d.at)}, before ${d.step ?? 'a step'}: ${d.detail}`, evidence: d.kind === 'kmsdata' ? 'Kmsdata was compared with the backup manifest; it was cleared and restored again' : 'the service was found running again (a reboot?) and stopped again' });
  for (const w of r.rewinds) rows.push({ label: 'Went back', value: `${t(w.at)}: from ${w.from} to ${w.to}, to redo the steps from there` });
  return rows;
}

function sourceWords(source: string): string {
  return ({ 'startup-disk': 'the startup disk (Kmspwd.ini)', environment: 'KMS_ALPHA_STRING', prompt: 'the hidden prompt', operator: 'the administrator, typed into the service' } as Record<string, string>)[source] ?? source;
}

function deletedBlocks(r: RunReport, t: (iso: string | null) => string): Block[] {
  if (r.clear.moved.length === 0) return [{ kind: 'text', text: r.clear.quarantine ? 'The clear found Kmsdata empty: nothing was moved aside or deleted.' : 'Nothing: the clear has not run.' }];
  const fate = r.clear.deleted
    ? `Deleted ${t(r.clear.deleted.at)}, after the KMS ran on the restored data, by the ledger: ${r.clear.deleted.count === r.clear.moved.length + 1
      ? `the ${countWords(r.clear.moved.length, 'entry', 'entries')} below, then the quarantine folder itself`
      : `${countWords(r.clear.deleted.count, 'entry or folder', 'entries and folders')} removed`}.`
    : r.clear.kept
      ? `Kept ${t(r.clear.kept.at)}: ${r.clear.kept.entries.join(', ')} (${r.clear.kept.reason}).`
      : `Still in ${r.clear.quarantine ?? 'the quarantine'}: nothing is deleted until the KMS runs on the restored data.`;
  return [
    { kind: 'text', text: `What the reinstall had put in Kmsdata was moved aside by the clear (KB step 3), each entry recorded first. ${fate}` },
    { kind: 'table', head: ['entry', 'kind', 'size', 'SHA-256'], widths: [28, 10, 12, 50], rows: r.clear.moved.map((e) => [e.name, e.kind, formatBytes(e.size), e.sha256 ?? '-']) },
  ];
}

function driverBlocks(r: RunReport, t: (iso: string | null) => string): Block[] {
  const blocks: Block[] = [];
  if (r.drivers.length) blocks.push({ kind: 'table', head: ['process', 'how', 'from', 'to'], widths: [34, 20, 23, 23], rows: r.drivers.map((d) => [`pid ${d.pid} on ${d.host}`, d.how === 'started' ? 'started the run' : d.how === 'resumed' ? 'resumed it' : 'took it over', t(d.firstAt), t(d.lastAt)]) });
  else blocks.push({ kind: 'text', text: `Started on ${r.run.host}; the processes of its attempts were not recorded (a run from before they were).` });
  for (const k of r.takeovers) blocks.push({ kind: 'text', text: `${t(k.at)}: taken over from pid ${k.fromPid ?? '?'} on ${k.fromHost ?? '?'}, which ${k.liveness === 'dead' ? 'had died' : 'did not respond (taken over with the administrator\'s confirmation)'}.` });
  return blocks;
}
