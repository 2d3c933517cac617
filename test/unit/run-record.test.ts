import { describe, expect, it } from 'vitest';
import { ERROR_CODES, adviceFor, exitStatusFor, isRetryable } from '../../errors/index.js';
import { createMachine, type AnyStateMachine } from 'xstate';
import { recoveryMachine } from '../../machines/index.js';
import { machineStructure, recoveryStructure } from '../../machines/recovery.structure.js';
import { parseContext, parseOptions, parsePhase, parseState } from '../../persistence/run-record.js';

describe('a run row is parsed once, at the persistence boundary', () => {
  it('refuses a state or phase this definition does not know, naming the run', () => {
    expect(parseState('r1', 'restored')).toBe('restored');
    expect(() => parseState('r1', 'teleported')).toThrow(expect.objectContaining({ code: 'DEFINITION_MISMATCH', message: expect.stringContaining('run r1') }));
    expect(parsePhase('r1', 'abandoned')).toBe('abandoned');
    expect(() => parsePhase('r1', 'sleeping')).toThrow(expect.objectContaining({ code: 'DEFINITION_MISMATCH' }));
  });

  it('keeps only well-formed options: step names as its own keys, numbers as numbers', () => {
    expect(parseOptions({ manual: ['startService', 'constructor', 3], policies: { clearKmsdata: { timeoutMs: 5000, attempts: 'x' }, toString: { attempts: 2 } } }))
      .toEqual({ manual: ['startService'], policies: { clearKmsdata: { timeoutMs: 5000 } } });
    expect(parseOptions(null)).toEqual({});
  });

  it('reads the context every definition stored, and refuses a snapshot without its folders', () => {
    const context = parseContext('r1', {
      context: {
        serviceName: 'MSExchangeKMS', kmsdata: 'D:\\exchsrvr\\KMSDATA', backup: 'E:\\KMSDATA', backupManifest: { fileCount: 2, totalBytes: 9, digest: 'd' },
        facts: {}, lastError: { step: 'startService', code: 'EINVAL', message: 'odd' },
      },
    });
    expect(context).toMatchObject({ kmsdata: 'D:\\exchsrvr\\KMSDATA', kmsdataIdentity: null });
    // An errno is not a tool code: it reads as INTERNAL, naming it, as toErrorRecord records one.
    expect(context.lastError).toEqual({ step: 'startService', code: 'INTERNAL', message: 'odd (EINVAL)' });
    expect(() => parseContext('r1', {})).toThrow(expect.objectContaining({ code: 'DEFINITION_MISMATCH' }));
  });
});

describe('one table of error codes', () => {
  it('gives each code its exit status, retryability and advice', () => {
    expect(exitStatusFor('FILE_IN_USE')).toBe(4);
    expect(isRetryable('FILE_IN_USE')).toBe(true);
    expect(isRetryable('ALPHA_REJECTED')).toBe(false);
    expect(isRetryable('EINVAL')).toBe(false);
    expect(exitStatusFor('EINVAL')).toBe(1);
    const at = { resume: 'kms-recover resume r1', step: 'KB step 7', message: 'the message' };
    expect(adviceFor('ALPHA_REJECTED', at)).toContain('Insert the ORIGINAL server\'s startup disk');
    expect(adviceFor('MANUAL_STEP_UNVERIFIED', at)).toBe('Finish the manual step (the message), then run: kms-recover resume r1');
    expect(adviceFor('KMSDATA_REPLACED', at)).toBe('Fix the cause above, then run: kms-recover resume r1 (it goes on with KB step 7)');
    // Only a failing step can be retried: nothing that refuses up front, locks or ends a run is retryable.
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      if (meaning.retryable) expect(meaning.exit, code).toBe(4);
    }
  });
});

describe('the definition hash is taken of the structure alone', () => {
  it('holds states, transitions, guards and steps, not the KB words the diagrams show', () => {
    const structure = JSON.stringify(recoveryStructure());
    expect(structure).toContain('"src":"restoreKmsdata"');
    expect(structure).toContain('"type":"restoreMatchesBackup"');
    expect(structure).not.toContain('KB step');
    expect(structure).not.toContain('Kmsdata directory');
  });

  // Issue 15's reproduction: the hash was taken of the diagrams' graph, which carries each
  // state's kbSteps, so a change of the KB's words (or of what the renderer reads) refused every
  // in-flight run with DEFINITION_MISMATCH.
  /** The recovery machine's own config with some of its top-level states replaced. */
  function variant(states: Record<string, unknown> = {}): AnyStateMachine {
    const config = recoveryMachine.config;
    return createMachine({ ...config, context: undefined, states: { ...config.states, ...states } } as Parameters<typeof createMachine>[0]);
  }

  it('does not change when the KB words a diagram draws change, and does when a transition does', () => {
    const states = recoveryMachine.config.states!;
    const reworded = variant({ restored: { ...states.restored, meta: { kbSteps: '4b', reached: 'other words', next: 'other words' } } });
    expect(machineStructure(reworded)).toEqual(machineStructure(variant()));
    const retargeted = variant({ stopped: { ...states.stopped, states: { ...states.stopped!.states, failed: { on: { RETRY: '#recovery.reinstalled' } } } } });
    expect(machineStructure(retargeted)).not.toEqual(machineStructure(variant()));
  });
});
