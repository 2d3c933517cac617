import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progressPrinter } from '../../cli/progress-printer.js';
import { currentProcess } from '../../host/process-identity.js';
import { COPY_BUFFER_BYTES } from '../../host/fs/copy-hash.js';
import { buildManifest, compareToManifest } from '../../host/fs/manifest.js';
import { restoreKmsdata } from '../../host/fs/restore-kmsdata.js';
import type { WorkProgress } from '../../host/types.js';
import type { EventRecord, LeaseRecord, RunTimer } from '../../persistence/index.js';
import { runStatus } from '../../recovery/run-status.js';
import { boundedRate, STALL_MS } from '../../recovery/work-progress.js';
import { progressLineOf } from '../../cli/run-words.js';
import { checklistLines, workLines } from '../../cli/status-screen.js';
import { runRecord } from '../helpers/run-record.js';
import { manualClock } from '../helpers/manual-clock.js';

/*
 * Progress that moves within a large file, at a bounded rate, and screens that show no stale
 * value: no time left that stopped moving, no deadline of another step or of an attempt over.
 */

let tmp: string;
let kmsdata: string;
let backup: string;
/** Larger than one copy buffer: copied (and hashed) several buffers at a time. */
const LARGE = 6 * COPY_BUFFER_BYTES + 123;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kms-progress-'));
  kmsdata = path.join(tmp, 'Exchsrvr', 'Kmsdata');
  backup = path.join(tmp, 'backup', 'Kmsdata');
  await mkdir(kmsdata, { recursive: true });
  await mkdir(backup, { recursive: true });
  await writeFile(path.join(backup, 'KMSMAIL.EDB'), randomBytes(LARGE));
  await writeFile(path.join(backup, 'mgrent.dat'), 'manager entries');
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The reports heard while the large file (the first in manifest order) was under way. */
function withinLargeFile(reports: WorkProgress[]): WorkProgress[] {
  return reports.filter((r) => r.filesDone === 0 && r.bytesDone > 0 && r.bytesDone < LARGE);
}

describe('progress within a large file', () => {
  it('the restore reports the bytes of a large file as it copies it, more than once, never going back', async () => {
    const manifest = await buildManifest(backup);
    const reports: WorkProgress[] = [];
    await restoreKmsdata(backup, kmsdata, manifest, 'run1', { onProgress: (p) => reports.push({ ...p }) });
    expect(withinLargeFile(reports).length).toBeGreaterThan(1);
    const bytes = reports.map((r) => r.bytesDone);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(reports.at(-1)).toEqual({ filesDone: 2, filesTotal: 2, bytesDone: manifest.totalBytes, bytesTotal: manifest.totalBytes });
  });

  it('told to stop in the middle of a large file (Ctrl-C), the copy stops at its next buffer, not at the file\'s end', async () => {
    const manifest = await buildManifest(backup);
    const stop = new AbortController();
    const reports: WorkProgress[] = [];
    const copying = restoreKmsdata(backup, kmsdata, manifest, 'run1', {
      signal: stop.signal,
      onProgress: (p) => {
        reports.push({ ...p });
        if (p.bytesDone > 0) stop.abort(new Error('Ctrl-C'));
      },
    });
    await expect(copying).rejects.toThrow('Ctrl-C');
    expect(reports).toHaveLength(1);
    expect(reports[0]!.bytesDone).toBeLessThan(LARGE);
    expect(await readdir(kmsdata)).toEqual([]);
  });

  it('the verify reports the bytes of a large file as it hashes it', async () => {
    const manifest = await buildManifest(backup);
    const reports: WorkProgress[] = [];
    const report = await compareToManifest(backup, manifest, { onProgress: (p) => reports.push({ ...p }) });
    expect(report.matches).toBe(true);
    expect(withinLargeFile(reports).length).toBeGreaterThan(1);
    expect(reports.at(-1)).toMatchObject({ filesDone: 2, bytesDone: manifest.totalBytes });
  });

  it('the verify, told to stop in the middle of a large file, stops there with the reason it was given', async () => {
    const manifest = await buildManifest(backup);
    const stop = new AbortController();
    const reports: WorkProgress[] = [];
    const verifying = compareToManifest(backup, manifest, {
      signal: stop.signal,
      onProgress: (p) => {
        reports.push({ ...p });
        stop.abort(new Error('Ctrl-C'));
      },
    });
    await expect(verifying).rejects.toThrow('Ctrl-C');
    expect(reports).toHaveLength(1);
    expect(reports[0]!.filesDone).toBe(0);
  });
});

describe('the bytes of a large file reach the database at a bounded rate', () => {
  it('one buffer every 10 ms for 3 s: about one write per 300 ms, the latest bytes each time, and the file\'s end', () => {
    const clock = manualClock();
    const written: { at: number; bytes: number }[] = [];
    const report = boundedRate((p) => written.push({ at: clock.now(), bytes: p.bytesDone }), { intervalMs: 300, now: clock.now, schedule: clock.schedule });
    const total = 300 * COPY_BUFFER_BYTES;
    for (let buffer = 1; buffer < 300; buffer++) {
      report({ filesDone: 0, filesTotal: 1, bytesDone: buffer * COPY_BUFFER_BYTES, bytesTotal: total });
      clock.advance(10);
    }
    report({ filesDone: 1, filesTotal: 1, bytesDone: total, bytesTotal: total });
    // 299 reports within the file: written at its first and then once per interval, never more often.
    expect(written.length).toBeGreaterThanOrEqual(10);
    expect(written.length).toBeLessThanOrEqual(12);
    for (let i = 2; i < written.length - 1; i++) expect(written[i]!.at - written[i - 1]!.at).toBeGreaterThanOrEqual(300);
    expect(written.at(-1)!.bytes).toBe(total);
    const bytes = written.map((w) => w.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
  });

  it('Ctrl-C in the middle of a file writes the bytes reached, then nothing more', () => {
    const clock = manualClock();
    const written: number[] = [];
    const interrupt = new AbortController();
    const report = boundedRate((p) => written.push(p.bytesDone), { intervalMs: 300, now: clock.now, schedule: clock.schedule, signal: interrupt.signal });
    report({ filesDone: 0, filesTotal: 1, bytesDone: 1, bytesTotal: 100 });
    clock.advance(100); report({ filesDone: 0, filesTotal: 1, bytesDone: 40, bytesTotal: 100 });
    interrupt.abort();
    report({ filesDone: 0, filesTotal: 1, bytesDone: 41, bytesTotal: 100 });
    clock.advance(1000);
    expect(written).toEqual([1, 40]);
  });
});

describe('no stale value on the screen', () => {
  const now = Date.now();
  const at = (s: number) => new Date(now + s * 1000).toISOString();
  const me = currentProcess();
  const live: LeaseRecord = { host: me.host, pid: me.pid, processStart: me.processStart, acquiredAt: at(-60), heartbeatAt: at(0), generation: 1 };
  const run = (state: 'cleared' | 'restored', manual: ('clearKmsdata' | 'restoreKmsdata' | 'setCredential')[] = []) =>
    runRecord({ state, phase: 'working', createdAt: at(-60), updatedAt: at(-50), options: { manual } });
  const started = (seq: number, step: string, s: number, verifying = false): EventRecord =>
    ({ seq, event: verifying ? 'manual.verifying' : 'step.started', from: 'cleared', to: 'cleared', at: at(s), detail: { step, attempt: verifying ? 0 : 1 } });
  const events: EventRecord[] = [{ seq: 1, event: 'run.created', from: null, to: 'reinstalled', at: at(-60), detail: null }];
  const row = (updatedAgoS: number) => ({ step: 'restoreKmsdata', attempt: 1, activity: 'copy' as const, filesDone: 3, filesTotal: 10, bytesDone: 300, bytesTotal: 1000, startedAt: at(-updatedAgoS - 3), updatedAt: at(-updatedAgoS) });

  it('work that wrote nothing for a while says how long, not a time left', () => {
    const moving = runStatus(run('cleared'), events, live, null, row(0), now);
    expect(moving.progress).toMatchObject({ stalledMs: null, remainingMs: 7000 });
    expect(progressLineOf(moving)).toMatch(/about 7 seconds left/);
    const stalled = runStatus(run('cleared'), events, live, null, row(STALL_MS / 1000 + 30), now);
    expect(stalled.progress).toMatchObject({ stalledMs: STALL_MS + 30_000 });
    expect(progressLineOf(stalled)).toMatch(/^restoring from the backup: 3 of 10 files, 300 B of 1000 B, no progress for 40 seconds \(as of /);
    expect(progressLineOf(stalled)).not.toMatch(/left|\/s/);
  });

  it('the deadline shown is the current attempt\'s, of the step the run is at', () => {
    const previous: RunTimer = { step: 'clearKmsdata', attempt: 1, deadlineAt: at(3600), nextAttemptAt: null };
    const atRestore = runStatus(run('cleared'), [...events, started(2, 'clearKmsdata', -55)], live, previous, null, now);
    expect(atRestore.timer).toBeNull();
    expect(workLines(atRestore).join('\n')).not.toContain('Deadline');

    const current: RunTimer = { step: 'restoreKmsdata', attempt: 2, deadlineAt: at(3600), nextAttemptAt: null };
    const working = runStatus(run('cleared'), [...events, started(2, 'restoreKmsdata', -10)], live, current, null, now);
    expect(working.timer).toMatchObject({ step: 'restoreKmsdata', attempt: 2, deadlineAt: at(3600), verifying: false });
    expect(workLines(working).join('\n')).toContain('Deadline: attempt 2 of restoreKmsdata must finish by');

    // A retry scheduled: the row still holds the failed attempt's deadline; only the retry's time is shown.
    const retry: RunTimer = { step: 'restoreKmsdata', attempt: 2, deadlineAt: at(-5), nextAttemptAt: at(20) };
    const failed = runRecord({ state: 'cleared', phase: 'failed', lastError: { code: 'FILE_IO', message: 'disk', retryable: true }, createdAt: at(-60), updatedAt: at(-1) });
    expect(runStatus(failed, events, live, retry, null, now).timer).toMatchObject({ deadlineAt: null, nextAttemptAt: at(20) });
  });

  it('the check of a manual step spends no attempt: no "0 attempts", no "attempt 0" beside it', () => {
    const timer: RunTimer = { step: 'clearKmsdata', attempt: 0, deadlineAt: at(600), nextAttemptAt: null };
    const s = runStatus(runRecord({ state: 'stopped', phase: 'working', createdAt: at(-60), updatedAt: at(-1), options: { manual: ['clearKmsdata'] } }),
      [...events, started(2, 'clearKmsdata', -1, true)], live, timer, null, now);
    expect(s.timer).toMatchObject({ verifying: true });
    const screen = workLines(s).join('\n');
    expect(screen).toContain('Deadline: the check of your clearKmsdata must finish by');
    expect(screen).not.toContain('attempt 0');
    const line = checklistLines(s).find((l) => l.includes('clearKmsdata'))!;
    expect(line).toMatch(/clearKmsdata +by you/);
    expect(line).not.toContain('0 attempts');
  });

  it('a step at work whose first attempt is not recorded yet says it is starting, not "0 attempts"', () => {
    const s = runStatus(run('cleared'), events, live, null, null, now);
    expect(checklistLines(s).find((l) => l.includes('restoreKmsdata'))).toMatch(/restoreKmsdata +starting/);
  });
});

describe('the driving process\'s live line', () => {
  it('says the work stalled once no report came for a while, instead of its last time left; a next line ends that', () => {
    vi.useFakeTimers();
    try {
      let written = '';
      const stderr = { isTTY: true, columns: 200, write: (text: string) => { written += text; } };
      const printer = progressPrinter('MSExchangeKMS', () => kmsdata, stderr);
      printer.working('restoreKmsdata', 'copy', { filesDone: 3, filesTotal: 10, bytesDone: 300, bytesTotal: 1000 }, 3000);
      const before = written;
      expect(before).toMatch(/about .* left/);
      vi.advanceTimersByTime(STALL_MS + 1000);
      const after = written.slice(before.length);
      expect(after).toMatch(/restoring from the backup: 3 of 10 files, 300 B of 1000 B, no progress for /);
      expect(after).not.toContain('left');
      printer.note('next');
      const ended = written.length;
      vi.advanceTimersByTime(5000);
      expect(written.length).toBe(ended);
    } finally {
      vi.useRealTimers();
    }
  });
});
