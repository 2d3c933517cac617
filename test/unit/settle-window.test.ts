import { describe, expect, it } from 'vitest';
import { netbiosNameProblem, sameComputerName } from '../../domain/index.js';
import { KmsRecoverError } from '../../errors/index.js';
import { alphaWasRejected } from '../../machines/recovery.guards.js';
import { DEFAULT_SETTLE_SECONDS, parseSettleSeconds, settleSecondsOf } from '../../recovery/settle-window.js';
import { settleProofWords } from '../../present/settle-words.js';
import { workRate } from '../../recovery/work-progress.js';

describe('--settle', () => {
  it('takes 0 to 600 seconds in whole milliseconds at most, exactly', () => {
    expect(parseSettleSeconds('0')).toBe(0);
    expect(parseSettleSeconds('15')).toBe(15);
    expect(parseSettleSeconds('0.5')).toBe(0.5);
    expect(parseSettleSeconds('600')).toBe(600);
    for (const bad of ['-1', '600.001', '601', '', 'x', '1e2', '0.0001']) expect(() => parseSettleSeconds(bad), bad).toThrow(/--settle needs seconds from 0 to 600/);
  });

  it('a run without one (made before the window) gets the default; a stored value out of range too', () => {
    expect(settleSecondsOf({})).toBe(DEFAULT_SETTLE_SECONDS);
    expect(settleSecondsOf({ settleSeconds: 0 })).toBe(0);
    expect(settleSecondsOf({ settleSeconds: 9999 })).toBe(DEFAULT_SETTLE_SECONDS);
  });

  it('the countdown is what is left of the window, whatever the rate', () => {
    expect(workRate({ filesDone: 3, filesTotal: 15, bytesDone: 0, bytesTotal: 0 }, 3000, 'settle')).toEqual({ bytesPerSecond: null, remainingMs: 12_000 });
  });

  it('the final words say what was proved, not more', () => {
    expect(settleProofWords('MSExchangeKMS', { seconds: 15, restoredFile: true })).toBe('MSExchangeKMS has run for 15 s on the restored database');
    expect(settleProofWords('MSExchangeKMS', { seconds: 15, restoredFile: false })).toBe('MSExchangeKMS has run for 15 s on the database in Kmsdata');
    expect(settleProofWords('MSExchangeKMS', null)).toBeNull();
  });
});

describe('ALPHA_REJECTED in the machine', () => {
  it('at the start goes back to the credential step; within the settle window it rests at the start', () => {
    expect(alphaWasRejected(new KmsRecoverError('ALPHA_REJECTED', 'refused'))).toBe(true);
    expect(alphaWasRejected(new KmsRecoverError('ALPHA_REJECTED', 'stopped late', { when: 'settle' }))).toBe(false);
    expect(alphaWasRejected(new KmsRecoverError('KMS_FAILED_AFTER_START', 'stopped late', { when: 'settle' }))).toBe(false);
  });
});

describe('computer names', () => {
  it('follow the NetBIOS rules and compare without case', () => {
    expect(netbiosNameProblem('KMS01')).toBeNull();
    expect(netbiosNameProblem('EXCH-KMS-SRV-01')).toBeNull();
    expect(netbiosNameProblem('')).toMatch(/empty/);
    expect(netbiosNameProblem('A-NAME-FAR-TOO-LONG')).toMatch(/at most 15/);
    expect(netbiosNameProblem('KMS.01')).toMatch(/"\."/);
    expect(netbiosNameProblem('KMS 01')).toMatch(/a space/);
    expect(netbiosNameProblem('12345')).toMatch(/only digits/);
    expect(sameComputerName('kms01', 'KMS01')).toBe(true);
    expect(sameComputerName('KMS01', 'KMS02')).toBe(false);
  });
});
