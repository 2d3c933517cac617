import { describe, expect, it } from 'vitest';
import {
  alphaWasRejected, credentialIsWellFormed, kmsdataIsEmpty, restoreMatchesBackup, serviceIsRunning, serviceIsStopped,
} from '../../machines/index.js';

describe('guards', () => {
  it('serviceIsStopped holds only for a stopped service', () => {
    expect(serviceIsStopped({ serviceState: 'stopped' })).toBe(true);
    for (const state of ['running', 'stop-pending', 'start-pending', 'paused', 'missing'] as const) {
      expect(serviceIsStopped({ serviceState: state })).toBe(false);
    }
  });

  it('kmsdataIsEmpty holds only when nothing remains', () => {
    expect(kmsdataIsEmpty({ removed: 7, remaining: 0 })).toBe(true);
    expect(kmsdataIsEmpty({ removed: 0, remaining: 0 })).toBe(true);
    expect(kmsdataIsEmpty({ removed: 6, remaining: 1 })).toBe(false);
  });

  it('restoreMatchesBackup needs the same count, bytes and digest, and no mismatch', () => {
    const backup = { fileCount: 3, totalBytes: 100, digest: 'abc' };
    const good = { fileCount: 3, totalBytes: 100, digest: 'abc', mismatches: [], alreadyRestored: false };
    expect(restoreMatchesBackup(good, backup)).toBe(true);
    expect(restoreMatchesBackup({ ...good, digest: 'abd' }, backup)).toBe(false);
    expect(restoreMatchesBackup({ ...good, fileCount: 2 }, backup)).toBe(false);
    expect(restoreMatchesBackup({ ...good, totalBytes: 99 }, backup)).toBe(false);
    expect(restoreMatchesBackup({ ...good, mismatches: ['kmsdata.edb'] }, backup)).toBe(false);
  });

  it('credentialIsWellFormed needs 14 characters', () => {
    expect(credentialIsWellFormed({ source: 'startup-disk', length: 14 })).toBe(true);
    expect(credentialIsWellFormed({ source: 'environment', length: 13 })).toBe(false);
    expect(credentialIsWellFormed({ source: 'prompt', length: 15 })).toBe(false);
  });

  it('serviceIsRunning holds only for a running service', () => {
    expect(serviceIsRunning({ serviceState: 'running' })).toBe(true);
    expect(serviceIsRunning({ serviceState: 'start-pending' })).toBe(false);
    expect(serviceIsRunning({ serviceState: 'stopped' })).toBe(false);
  });

  it('alphaWasRejected recognises the KMS refusing the alpha string, and nothing else', () => {
    expect(alphaWasRejected({ code: 'ALPHA_REJECTED', message: 'no' })).toBe(true);
    expect(alphaWasRejected({ code: 'SERVICE_START_FAILED', message: 'no' })).toBe(false);
    expect(alphaWasRejected(new Error('ALPHA_REJECTED'))).toBe(false);
    expect(alphaWasRejected(null)).toBe(false);
  });
});
