import { describe, expect, it } from 'vitest';
import { isStepName, STEP_NAMES, type RecoveryState, type StepName } from '../../machines/recovery.order.js';
import type { EventRecord, RunPhase, StepAttemptRecord } from '../../persistence/index.js';
import { reportFacts, type RunReport } from '../../recovery/report-facts.js';
import { runStatus } from '../../recovery/run-status.js';
import { reportDocument } from '../../report/document.js';
import { reportMarkdown } from '../../report/markdown.js';
import { reportHtml } from '../../report/html.js';
import { at, eventLog } from '../helpers/event-records.js';
import { runRecord } from '../helpers/run-record.js';

/*
 * The report's facts from fixture runs: event logs as the store writes them (seq and a time one
 * second apart), each the story of one kind of run.
 */

const TOOL = { name: 'kms-recover' as const, version: '0.1.0', machineVersion: 5, definitionHash: 'h' };
const DRIVER_A = { host: 'kms01', pid: 4100 };
const DRIVER_B = { host: 'kms01', pid: 4200 };

/** Attempts as step_attempts would hold them, read back from the log's own step events. */
function attemptsOf(events: EventRecord[]): StepAttemptRecord[] {
  const out: StepAttemptRecord[] = [];
  for (const e of events) {
    const step = e.detail?.step;
    const attempt = e.detail?.attempt;
    if (e.event === 'step.started' && isStepName(step) && typeof attempt === 'number') {
      out.push({ step, attempt, startedAt: e.at, deadlineAt: null, endedAt: null, outcome: null });
      continue;
    }
    const m = /^xstate\.(done|error)\.actor\.(.+)$/.exec(e.event);
    const open = m ? out.findLast((a) => a.step === m[2] && a.endedAt === null) : undefined;
    if (m && open) Object.assign(open, { endedAt: e.at, outcome: m[1] });
  }
  return out;
}

function facts(events: EventRecord[], state: RecoveryState, phase: RunPhase, extra: { closedAt?: string; ledger?: RunReport['clear']['moved'] } = {}): RunReport {
  const run = { ...runRecord({ state, phase, createdAt: events[0]!.at, updatedAt: events.at(-1)!.at }), closedAt: extra.closedAt ?? null };
  const now = Date.parse(events.at(-1)!.at) + 60_000;
  return reportFacts({
    status: runStatus(run, events, null, null, null, now), run, events, attempts: attemptsOf(events), ledger: extra.ledger ?? [],
    tool: TOOL, database: '/var/lib/kms-recover/kms-recover.db', generatedAt: new Date(now).toISOString(),
  });
}

const ORDER: { step: StepName; from: RecoveryState; to: RecoveryState; facts: Record<string, unknown> }[] = [
  { step: 'stopService', from: 'reinstalled', to: 'stopped', facts: { serviceState: 'stopped' } },
  { step: 'clearKmsdata', from: 'stopped', to: 'cleared', facts: { removed: 2, remaining: 0, quarantine: 'D:\\exchsrvr\\KMSDATA.quarantine-abcd1234' } },
  { step: 'restoreKmsdata', from: 'cleared', to: 'restored', facts: { fileCount: 3, totalBytes: 1024, digest: 'd', mismatches: [], alreadyRestored: false, identity: { dev: '7', ino: '9' } } },
  { step: 'setCredential', from: 'restored', to: 'credential-set', facts: { source: 'startup-disk', length: 14 } },
  { step: 'startService', from: 'credential-set', to: 'running', facts: { serviceState: 'running', settle: { seconds: 15, pid: 880, restoredFile: true, databaseId: 'kms-1' } } },
];

/** A log through the steps before `upTo` (all five when absent), each done on its first attempt by `driver`. */
function logThrough(log: ReturnType<typeof eventLog>, upTo?: StepName, driver = DRIVER_A): EventRecord[] {
  const events = [log('run.created', null, 'reinstalled', { backupFiles: 3, backupBytes: 1024, backupDigest: 'd', computerName: 'KMS01' }), log('claim.taken', 'reinstalled', 'reinstalled', { claim: 'D:\\exchsrvr\\kms-recover.claim', recoveredBefore: null })];
  for (const s of ORDER) {
    if (s.step === upTo) break;
    events.push(log('step.started', s.from, s.from, { step: s.step, attempt: 1, driver }));
    if (s.step === 'startService') events.push(log('service.start-requested', s.from, s.from, { service: 'MSExchangeKMS', at: at(events.length + 1) }));
    events.push(log(`xstate.done.actor.${s.step}`, s.from, s.to, { phase: s.step === 'startService' ? 'done' : 'working', facts: s.facts }));
  }
  return events;
}

describe('the facts of a report', () => {
  it('a finished run: recovered, the restore matched the backup, the quarantine deleted by its ledger, one driver', () => {
    const log = eventLog();
    const events = logThrough(log);
    events.push(log('quarantine.removed', 'running', 'running', { kmsdata: 'D:\\exchsrvr\\KMSDATA', of: 'abcd1234', removed: 2 }));
    events.push(log('run.finished', 'running', 'running', { removed: [], kept: [] }));
    const ledger = [{ name: 'kmsdata.edb', storedAs: 'kmsdata.edb', kind: 'file' as const, size: 10, sha256: 'aa' }, { name: 'certs', storedAs: 'certs', kind: 'dir' as const, size: 0, sha256: 'bb' }];
    const r = facts(events, 'running', 'done', { closedAt: events.at(-1)!.at, ledger });
    expect(r.run.situation).toBe('finished');
    expect(r.outcome.recovered).toBe(true);
    expect(r.restore).toMatchObject({ files: 3, matchesBackup: true, restoredIdentity: { dev: '7', ino: '9' } });
    expect(r.settle).toMatchObject({ seconds: 15, pid: 880, restoredFile: true, databaseId: 'kms-1' });
    expect(r.clear).toMatchObject({ quarantine: 'D:\\exchsrvr\\KMSDATA.quarantine-abcd1234', deleted: { count: 2 }, kept: null });
    expect(r.clear.moved.map((e) => e.name)).toEqual(['kmsdata.edb', 'certs']);
    expect(r.credential).toEqual({ source: 'startup-disk', at: expect.any(String) });
    expect(JSON.stringify(r)).not.toContain('"length"');
    expect(r.drivers).toEqual([{ ...DRIVER_A, firstAt: expect.any(String), lastAt: expect.any(String), how: 'started' }]);
    expect(r.errors).toEqual([]);
    expect(r.timeline.bars.filter((b) => b.kind === 'done')).toHaveLength(5);
    expect(r.timeline.bars.some((b) => b.kind === 'settle')).toBe(true);
    expect(r.timeline.end).toBe(events.at(-1)!.at);
  });

  it.each(STEP_NAMES.map((step, i) => ({ step, i })))('failed at $step: the error in words with its code, the KB step it failed marked, not recovered', ({ step, i }) => {
    const log = eventLog();
    const events = logThrough(log, step);
    const from = ORDER[i]!.from;
    events.push(log('step.started', from, from, { step, attempt: 1, driver: DRIVER_A }));
    events.push(log(`xstate.error.actor.${step}`, from, from, { phase: 'failed', error: { code: 'SERVICE_START_FAILED', message: `the ${step} went wrong`, step } }));
    const run = { ...runRecord({ state: from, phase: 'failed', lastError: { code: 'SERVICE_START_FAILED', message: `the ${step} went wrong`, step }, createdAt: events[0]!.at, updatedAt: events.at(-1)!.at }) };
    const r = reportFacts({ status: runStatus(run, events, null, null, null, Date.parse(events.at(-1)!.at)), run, events, attempts: attemptsOf(events), ledger: [], tool: TOOL, database: 'db', generatedAt: events.at(-1)!.at });
    expect(r.run.situation).toBe('failed');
    expect(r.outcome.recovered).toBe(false);
    expect(r.errors).toEqual([{ at: events.at(-1)!.at, step, attempt: 1, code: 'SERVICE_START_FAILED', message: `the ${step} went wrong` }]);
    const marked = r.steps.find((s) => s.status === 'failed');
    expect(marked?.step).toBe(step);
    expect(marked?.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'error', error: expect.objectContaining({ code: 'SERVICE_START_FAILED' }) })]);
    expect(r.timeline.bars.filter((b) => b.kind === 'error')).toHaveLength(1);
    const doc = reportDocument(r, []);
    expect(doc.standing.tone).toBe('bad');
    expect(doc.standing.words).toContain(`(${step})`);
  });

  it('a takeover: the cut-off attempt, the span nobody drove it, and the second driver who took it over', () => {
    const log = eventLog();
    const events = logThrough(log, 'restoreKmsdata');
    events.push(log('step.started', 'cleared', 'cleared', { step: 'restoreKmsdata', attempt: 1, driver: DRIVER_A }));
    events.push(log('lease.taken-over', 'cleared', 'cleared', { fromPid: 4100, fromHost: 'kms01', since: at(1), generation: 2, liveness: 'dead' }));
    events.push(log('step.started', 'cleared', 'cleared', { step: 'restoreKmsdata', attempt: 2, driver: DRIVER_B }));
    events.push(log('xstate.done.actor.restoreKmsdata', 'cleared', 'restored', { phase: 'working', facts: ORDER[2]!.facts }));
    const r = facts(events, 'restored', 'working');
    expect(r.takeovers).toEqual([expect.objectContaining({ fromPid: 4100, liveness: 'dead' })]);
    expect(r.drivers.map((d) => [d.pid, d.how])).toEqual([[4100, 'started'], [4200, 'took over']]);
    const restore = r.steps.find((s) => s.step === 'restoreKmsdata')!;
    expect(restore.attempts.map((a) => a.outcome)).toEqual(['cut-off', 'done']);
    const gap = r.timeline.bars.find((b) => b.kind === 'no-driver');
    expect(gap).toMatchObject({ to: events.find((e) => e.event === 'lease.taken-over')!.at });
    expect(r.timeline.marks.some((m) => m.kind === 'takeover' && m.row === null)).toBe(true);
  });

  it('drift found and redone: the service found running again, Kmsdata differing, and the run going back', () => {
    const log = eventLog();
    const events = logThrough(log, 'setCredential');
    events.push(log('drift.service-running', 'restored', 'restored', { step: 'setCredential', service: 'MSExchangeKMS', serviceState: 'running' }));
    events.push(log('drift.kmsdata', 'restored', 'restored', { step: 'setCredential', differences: ['kmsdata.edb differs'], count: 1 }));
    events.push(log('REWIND', 'restored', 'stopped', { from: 'restored', to: 'stopped' }));
    const r = facts(events, 'stopped', 'working');
    expect(r.drift).toEqual([
      { at: expect.any(String), kind: 'service-running', step: 'setCredential', detail: 'MSExchangeKMS was running' },
      { at: expect.any(String), kind: 'kmsdata', step: 'setCredential', detail: 'kmsdata.edb differs' },
    ]);
    expect(r.rewinds).toEqual([{ at: expect.any(String), from: 'restored', to: 'stopped' }]);
    const md = reportMarkdown(reportDocument(r, []), r, 'overview');
    expect(md).toContain('Drift found and redone');
    expect(md).toContain('Went back');
  });

  it('Kmsdata checked again before the alpha string and the start: said with how it was proved', () => {
    const log = eventLog();
    const events = logThrough(log, 'setCredential');
    events.push(log('kmsdata.checked', 'restored', 'restored', { step: 'setCredential', by: 'identity', files: 3 }));
    events.push(log('kmsdata.checked', 'credential-set', 'credential-set', { step: 'startService', by: 'contents', files: 3 }));
    const r = facts(events, 'credential-set', 'working');
    expect(r.rechecks).toEqual([
      { at: expect.any(String), step: 'setCredential', by: 'identity', files: 3 },
      { at: expect.any(String), step: 'startService', by: 'contents', files: 3 },
    ]);
    const md = reportMarkdown(reportDocument(r, []), r, 'overview');
    expect(md).toMatch(/Kmsdata checked again:\*\* .*before the alpha string was given: 3 files equal to the backup _\(each file still the one the restore wrote/);
    expect(md).toMatch(/before the service was started: 3 files equal to the backup _\(each file read again: its size and SHA-256/);
  });

  it('abandoned while waiting for a manual step: the wait drawn until the abandon, said at the top', () => {
    const log = eventLog();
    const events = logThrough(log, 'clearKmsdata');
    events.push(log('xstate.error.actor.clearKmsdata', 'stopped', 'stopped', { phase: 'waiting', error: { code: 'MANUAL_STEP_PENDING', message: 'do it by hand', step: 'clearKmsdata' } }));
    events.push(log('run.abandoned', 'stopped', 'stopped', { reason: 'restored by hand instead' }));
    const r = facts(events, 'stopped', 'abandoned', { closedAt: events.at(-1)!.at });
    expect(r.run.situation).toBe('abandoned');
    expect(r.run.abandoned).toEqual({ at: events.at(-1)!.at, reason: 'restored by hand instead' });
    expect(r.errors).toEqual([]);
    expect(r.timeline.bars.find((b) => b.kind === 'operator')).toMatchObject({ to: events.at(-1)!.at });
    const doc = reportDocument(r, []);
    expect(doc.standing.words).toMatch(/^Abandoned/);
    expect(reportHtml(doc, r, '<svg></svg>')).toContain('restored by hand instead');
  });
});
