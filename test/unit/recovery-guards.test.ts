import { describe, expect, it } from 'vitest';
import { ALPHA_STRING_LENGTH } from '../../domain/index.js';
import {
  alphaWasRejected, credentialIsWellFormed, kmsdataDrifted, kmsdataIsEmpty, MAX_DRIFT_REDOS, restoreMatchesBackup,
  rewindTargetIs, serviceIsRunning, serviceIsStopped,
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

  it('credentialIsWellFormed: the tool\'s own alpha string (disk, environment, prompt) needs its length; none is refused', () => {
    for (const source of ['startup-disk', 'environment', 'prompt'] as const) {
      expect(credentialIsWellFormed({ source, length: ALPHA_STRING_LENGTH }), source).toBe(true);
      expect(credentialIsWellFormed({ source, length: null }), `${source} without a length`).toBe(false);
      expect(credentialIsWellFormed({ source, length: 0 }), `${source}, empty`).toBe(false);
    }
  });

  it('credentialIsWellFormed takes the alpha string the operator typed in on trust: allowed only as one the tool never saw (no length)', () => {
    expect(credentialIsWellFormed({ source: 'operator', length: null })).toBe(true);
    // An operator-sourced credential with a length would mean the tool held the operator's alpha
    // string: refused, whatever the length, a well-formed 14 included.
    for (const length of [ALPHA_STRING_LENGTH, 13, 15, 0]) {
      expect(credentialIsWellFormed({ source: 'operator', length }), `operator with length ${length}`).toBe(false);
    }
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

  it('rewindTargetIs takes REWIND only to the state it names', () => {
    expect(rewindTargetIs('stopped', 'stopped')).toBe(true);
    expect(rewindTargetIs('stopped', 'cleared')).toBe(false);
    expect(rewindTargetIs('', 'stopped')).toBe(false);
  });

  it(`kmsdataDrifted redoes the clear and the restore for a changed or refilled Kmsdata, at most ${MAX_DRIFT_REDOS} times`, () => {
    for (const code of ['KMSDATA_DRIFT', 'KMSDATA_NOT_EMPTY']) {
      expect(kmsdataDrifted({ code, message: 'changed' }, 0), code).toBe(true);
      expect(kmsdataDrifted({ code, message: 'changed' }, MAX_DRIFT_REDOS - 1), `${code}, last redo`).toBe(true);
      expect(kmsdataDrifted({ code, message: 'changed' }, MAX_DRIFT_REDOS), `${code}, redos used up`).toBe(false);
    }
    expect(kmsdataDrifted({ code: 'RESTORE_MISMATCH', message: 'no' }, 0)).toBe(false);
    expect(kmsdataDrifted(new Error('KMSDATA_DRIFT'), 0)).toBe(false);
    expect(kmsdataDrifted(null, 0)).toBe(false);
  });
});
