import { describe, expect, it } from 'vitest';
import type { LeaseRecord, RunTimer } from '../../persistence/index.js';
import type { DriverView } from '../../recovery/lease-policy.js';
import { situationOf, standingOf } from '../../recovery/run-situation.js';

/*
 * The situation rule (recovery/run-situation.ts) where it depends on the run's timer and its
 * driver: a scheduled retry is its driver's until its attempt begins, whatever the clock says
 * (test/integration/one-truth.test.ts proves the screens agree on it with real processes).
 */

const NOW = Date.parse('2026-12-03T12:00:00.000Z');
const lease: LeaseRecord = { host: 'kms01', pid: 4242, processStart: null, acquiredAt: '2026-12-03T11:59:00.000Z', heartbeatAt: '2026-12-03T11:59:59.000Z', generation: 1 };
const drivers: Record<'live' | 'dead' | 'silent' | 'nobody', DriverView> = {
  live: { kind: 'live', lease },
  dead: { kind: 'dead', lease },
  silent: { kind: 'silent', lease, silentMs: 75_000, seen: true },
  nobody: { kind: 'nobody' },
};
const retryAt = (offsetMs: number, step = 'clearKmsdata'): RunTimer => ({ step, attempt: 2, deadlineAt: null, nextAttemptAt: new Date(NOW + offsetMs).toISOString() });
const failedAtClear = { id: 'abcd1234', state: 'stopped', phase: 'failed', closedAt: null, manual: [], kmsdata: 'D:\\exchsrvr\\KMSDATA', startupDisk: null, lastError: { code: 'INJECTED_FAULT', message: 'injected', step: 'clearKmsdata' } } as const;

describe('a scheduled retry belongs to its driver, due or not', () => {
  for (const offsetMs of [30_000, -1_000]) {
    const when = offsetMs > 0 ? 'ahead' : 'come';
    it(`its time ${when}: live retrying, silent unresponsive, dead or nobody interrupted`, () => {
      expect(situationOf(failedAtClear, drivers.live, retryAt(offsetMs))).toBe('retrying');
      expect(situationOf(failedAtClear, drivers.silent, retryAt(offsetMs))).toBe('unresponsive');
      expect(situationOf(failedAtClear, drivers.dead, retryAt(offsetMs))).toBe('interrupted');
      expect(situationOf(failedAtClear, drivers.nobody, retryAt(offsetMs))).toBe('interrupted');
    });
  }

  it('no retry scheduled, or one of another step (the run went back since): the step failed', () => {
    expect(situationOf(failedAtClear, drivers.nobody, null)).toBe('failed');
    const attemptUnderWay: RunTimer = { step: 'clearKmsdata', attempt: 1, deadlineAt: '2026-12-03T12:10:00.000Z', nextAttemptAt: null };
    expect(situationOf(failedAtClear, drivers.nobody, attemptUnderWay)).toBe('failed');
    expect(situationOf(failedAtClear, drivers.nobody, retryAt(30_000, 'restoreKmsdata'))).toBe('failed');
  });

  it('resume keeps the remaining wait while there is one, and says the retry begins at once when it has come', () => {
    expect(standingOf(failedAtClear, null, retryAt(30_000), NOW).next).toMatch(/^Nothing is lost: run kms-recover resume abcd1234 \(it keeps the remaining wait before attempt 2 of clearKmsdata\)/);
    expect(standingOf(failedAtClear, null, retryAt(-1_000), NOW).next).toMatch(/^Nothing is lost: run kms-recover resume abcd1234 \(attempt 2 of clearKmsdata is due: it begins at once\)/);
  });
});

describe('the clean-up after running', () => {
  const running = { state: 'running', phase: 'done', closedAt: null } as const;
  it('its live driver works on it; a silent one is unresponsive (takeover); with none it is finishing (resume); closed, finished', () => {
    expect(situationOf(running, drivers.live, null)).toBe('working');
    expect(situationOf(running, drivers.silent, null)).toBe('unresponsive');
    expect(situationOf(running, drivers.dead, null)).toBe('finishing');
    expect(situationOf(running, drivers.nobody, null)).toBe('finishing');
    expect(situationOf({ ...running, closedAt: '2026-12-03T12:00:00.000Z' }, drivers.nobody, null)).toBe('finished');
  });
});
