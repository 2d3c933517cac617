import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { currentProcess } from '../../host/process-identity.js';
import type { WorkProgress } from '../../host/types.js';
import { FencedRun, openDatabase, RunLeases, RunStore, type EventRecord, type LeaseRecord, type RunPhase, type RunRecord } from '../../persistence/index.js';
import { EVENT_WORDS, eventWords } from '../../present/event-words.js';
import { manualActionAt } from '../../recovery/manual-action.js';
import { confirmCovers } from '../../machines/recovery.manual.js';
import { runStatus } from '../../recovery/run-status.js';
import { durationWords, timeWords } from '../../present/time-words.js';
import { boundedRate, workRate } from '../../recovery/work-progress.js';
import { MACHINE_VERSION, type RecoveryState, type StepName } from '../../machines/index.js';
import { runRecord } from '../helpers/run-record.js';
import { manualClock } from '../helpers/manual-clock.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

describe('progress at a bounded rate', () => {
  const p = (filesDone: number, filesTotal = 10): WorkProgress => ({ filesDone, filesTotal, bytesDone: filesDone * 100, bytesTotal: filesTotal * 100 });


  it('passes the first report, then one per interval, and always the last', () => {
    const clock = manualClock();
    const written: number[] = [];
    const report = boundedRate((q) => written.push(q.filesDone), { intervalMs: 300, now: clock.now, schedule: clock.schedule });
    report(p(1)); // first: written
    clock.advance(100); report(p(2)); // within the interval: held back
    clock.advance(100); report(p(3));
    clock.advance(150); // 300 ms after the first write: the latest held report (3) is written
    report(p(4)); // within the next interval: held back
    clock.advance(10); report(p(5));
    clock.advance(10); report(p(10)); // the last one: always, and nothing held is left
    expect(written).toEqual([1, 3, 10]);
    expect(clock.pending()).toBe(0);
  });

  it('a report held back is written when its interval is over (a long file after short ones), at once when the attempt ends, and nothing after', () => {
    const clock = manualClock();
    const written: number[] = [];
    const ended = new AbortController();
    const report = boundedRate((q) => written.push(q.filesDone), { intervalMs: 300, now: clock.now, schedule: clock.schedule, signal: ended.signal });
    report(p(1));
    clock.advance(50); report(p(2));
    clock.advance(50); report(p(3)); // then the copy of a long file: no report for a while
    clock.advance(200);
    expect(written).toEqual([1, 3]);
    clock.advance(50); report(p(4));
    ended.abort(); // Ctrl-C, the time limit: the run says how far it got
    expect(written).toEqual([1, 3, 4]);
    clock.advance(300); report(p(5));
    expect(written).toEqual([1, 3, 4]);
    expect(clock.pending()).toBe(0);
  });

  it('copies what it writes: the host may reuse its progress object', () => {
    const seen: WorkProgress[] = [];
    const shared = p(1);
    const report = boundedRate((q) => seen.push(q), { intervalMs: 0, now: () => 0 });
    report(shared);
    shared.filesDone = 2;
    report(shared);
    expect(seen.map((q) => q.filesDone)).toEqual([1, 2]);
  });

  it('rate and time left: by bytes, by entries for the clear, unknown at first', () => {
    expect(workRate(p(0), 5000, 'copy')).toEqual({ bytesPerSecond: null, remainingMs: null });
    expect(workRate(p(5), 2000, 'copy')).toEqual({ bytesPerSecond: 250, remainingMs: 2000 });
    expect(workRate({ filesDone: 1, filesTotal: 4, bytesDone: 900, bytesTotal: 900 }, 1000, 'clear').remainingMs).toBe(3000);
  });
});

describe('the progress row is written through the fencing token', () => {
  it('recordProgress keeps the clock of one attempt\'s activity and refuses a stale driver', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-progress-'));
    dirs.push(dir);
    const { db } = openDatabase(path.join(dir, 'p.db'));
    const store = new RunStore(db);
    store.createRun({ claim: { claim: 'Exchsrvr/kms-recover.claim', recoveredBefore: null }, params: { serviceName: 'MSExchangeKMS', kmsdata: 'D:\\exchsrvr\\Kmsdata', backup: 'E:\\backup\\Kmsdata' },
      id: 'abcd1234', host: 'h', machineVersion: MACHINE_VERSION, definitionHash: 'x', adapter: 'sim', adapterConfig: {}, serverKey: 'k',
      state: 'cleared', phase: 'working', snapshot: {}, manifest: { files: [], dirs: [], fileCount: 0, totalBytes: 0, digest: '' },
    });
    const leases = new RunLeases(db);
    const first = leases.acquire('abcd1234', currentProcess(), () => true).token;
    const fenced = new FencedRun(store, 'abcd1234', first);
    fenced.progress({ step: 'restoreKmsdata', attempt: 1, activity: 'copy', filesDone: 1, filesTotal: 3, bytesDone: 10, bytesTotal: 30 });
    const started = store.progress('abcd1234')!.startedAt;
    fenced.progress({ step: 'restoreKmsdata', attempt: 1, activity: 'copy', filesDone: 3, filesTotal: 3, bytesDone: 30, bytesTotal: 30 });
    expect(store.progress('abcd1234')).toMatchObject({ filesDone: 3, bytesDone: 30, startedAt: started });

    leases.release('abcd1234', first);
    leases.acquire('abcd1234', currentProcess(), () => true);
    expect(() => fenced.progress({ step: 'restoreKmsdata', attempt: 1, activity: 'copy', filesDone: 2, filesTotal: 3, bytesDone: 20, bytesTotal: 30 }))
      .toThrow(expect.objectContaining({ code: 'LEASE_LOST' }));
    expect(store.progress('abcd1234')!.filesDone).toBe(3);
    db.close();
  });
});

describe('one manual action, one confirm', () => {
  const manual = ['setCredential', 'startService'] as const;

  it('the alpha string and the start are KB steps 5-7, confirmed by startService', () => {
    const action = manualActionAt('setCredential', manual);
    expect(action).toMatchObject({ kbSteps: '5-7', confirm: 'startService', covers: ['setCredential', 'startService'] });
    expect(action.words).toMatch(/type in the alpha string.*Then start the Microsoft Key Management Server service\.$/);
    expect(manualActionAt('clearKmsdata', ['clearKmsdata'])).toMatchObject({ kbSteps: '3', confirm: 'clearKmsdata', covers: ['clearKmsdata'] });
  });

  it('a confirm covers the step at hand, or the manual start covering the credential; nothing else', () => {
    expect(confirmCovers('startService', 'setCredential', manual)).toEqual(['setCredential', 'startService']);
    expect(confirmCovers('setCredential', 'setCredential', manual)).toEqual(['setCredential']);
    expect(confirmCovers('startService', 'startService', manual)).toEqual(['startService']);
    expect(confirmCovers('stopService', 'setCredential', manual)).toBeNull();
    expect(confirmCovers('startService', 'restoreKmsdata', manual)).toBeNull();
  });
});

describe('events in words', () => {
  const events: [string, Record<string, unknown>][] = [
    ['run.created', { backupFiles: 308 }], ['step.started', { step: 'restoreKmsdata', attempt: 2 }],
    ['xstate.done.actor.restoreKmsdata', { phase: 'working', facts: { fileCount: 308, totalBytes: 1, alreadyRestored: false } }],
    ['xstate.error.actor.startService', { phase: 'failed', error: { code: 'SERVICE_START_FAILED', message: 'it did not start' } }],
    ['retry.scheduled', { step: 'clearKmsdata', attempt: 2, delayMs: 1500, after: 'FILE_IN_USE' }],
    ['drift.service-running', { step: 'clearKmsdata', service: 'MSExchangeKMS', serviceState: 'running' }],
    ['drift.kmsdata', { step: 'setCredential', count: 2 }], ['lease.taken-over', { fromPid: 12, fromHost: 'kms01' }],
    ['claim.renewed', {}], ['claim.released', {}], ['quarantine.removed', { removed: 3 }], ['quarantine.kept', { kept: ['a'] }],
    ['restore.promoting', {}], ['policy.changed', {}], ['manual.confirmed', { step: 'setCredential', by: 'startService' }],
    ['REWIND', { from: 'restored', to: 'stopped' }], ['definition.migrated', { fromVersion: 1, toVersion: 4 }],
    ['run.abandoned', { reason: 'wrong server' }], ['run.finished', {}],
  ];

  it('every event the log holds has words, without XState names or raw details', () => {
    for (const [event, detail] of events) {
      const words = eventWords({ event, detail });
      expect(words, event).not.toMatch(/xstate|actor|facts|[{}]|undefined|(^|\s)\?(\s|$)/);
      expect(words, event).not.toBe(event);
    }
    expect(eventWords({ event: 'xstate.done.actor.restoreKmsdata', detail: events[2]![1] })).toBe('restore finished: 308 files, verified');
    expect(eventWords({ event: 'manual.confirmed', detail: { step: 'setCredential', by: 'startService' } })).toContain('covers it');
  });

  it('one table: an unknown event is shown by its type', () => {
    expect(Object.keys(EVENT_WORDS)).toContain('run.finished');
    expect(eventWords({ event: 'something.new', detail: null })).toBe('something.new');
  });

  it('times: local or UTC, the offset said in the header (test/unit/screen-words.test.ts); one set of duration words', () => {
    expect(timeWords('2026-12-01T09:02:03.456Z', { utc: true })).toBe('2026-12-01 09:02:03');
    expect(timeWords('2026-12-01T09:02:03.456Z')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect([850, 12_400, 185_000, 7_620_000].map(durationWords)).toEqual(['less than a second', '12 seconds', '3 minutes 5 seconds', '2 hours 7 minutes']);
  });
});

describe('status in one voice', () => {
  const at = (s: number) => new Date(Date.parse('2026-12-01T09:00:00Z') + s * 1000).toISOString();
  const run = (state: RecoveryState, phase: RunPhase, lastError: Record<string, unknown> | null = null, manual: StepName[] = []): RunRecord =>
    runRecord({ state, phase, lastError, createdAt: at(0), updatedAt: at(10), options: { manual } });
  const events: EventRecord[] = [{ seq: 1, event: 'run.created', from: null, to: 'reinstalled', at: at(0), detail: null }];
  const me = currentProcess();
  const live: LeaseRecord = { host: me.host, pid: me.pid, processStart: me.processStart, acquiredAt: at(1), heartbeatAt: new Date().toISOString(), generation: 1 };
  const dead: LeaseRecord = { ...live, pid: 2 ** 22 + 17, processStart: 'long ago' };

  it('a working run with no live driver is interrupted, and says resume once; a live one says wait', () => {
    const interrupted = runStatus(run('cleared', 'working'), events, dead);
    expect(interrupted).toMatchObject({ situation: 'interrupted', rests: true, driver: { kind: 'dead' } });
    expect(interrupted.next).toBe('Nothing is lost: run kms-recover resume abcd1234 to go on with KB step 4.');
    const working = runStatus(run('cleared', 'working'), events, live);
    expect(working).toMatchObject({ situation: 'working', rests: false, driver: { kind: 'live', pid: me.pid } });
    expect(working.next).toContain('follow it with kms-recover watch abcd1234');
  });

  it('a manual step pending is phase waiting, with the KB words once and one command; lastError is kept', () => {
    const s = runStatus(run('restored', 'waiting', null, ['setCredential', 'startService']), events, null);
    expect(s).toMatchObject({ phase: 'waiting', situation: 'waiting', lastError: { code: 'MANUAL_STEP_PENDING' } });
    expect(s.waitingFor).toMatchObject({ kbSteps: '5-7', command: 'kms-recover confirm abcd1234 startService' });
    expect(s.next!.match(/kms-recover/g)).toHaveLength(1);
  });

  it('progress shows while the step is driven, or when it was cut off; not for another step', () => {
    // Written just now by a live driver (an older row of a driven run is a stall: work-progress.test.ts).
    const written = Date.now();
    const row = { step: 'restoreKmsdata', attempt: 1, activity: 'copy' as const, filesDone: 5, filesTotal: 10, bytesDone: 500, bytesTotal: 1000, startedAt: new Date(written - 2000).toISOString(), updatedAt: new Date(written).toISOString() };
    expect(runStatus(run('cleared', 'working'), events, live, null, row).progress).toMatchObject({ filesDone: 5, bytesPerSecond: 250, remainingMs: 2000 });
    expect(runStatus(run('cleared', 'working'), events, dead, null, row).progress).toMatchObject({ filesDone: 5 });
    expect(runStatus(run('restored', 'working'), events, live, null, row).progress).toBeNull();
    expect(runStatus(run('cleared', 'working'), events, dead, null, { ...row, filesDone: 10 }).progress).toBeNull();
  });
});
