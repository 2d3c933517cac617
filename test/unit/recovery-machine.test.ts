import { afterEach, describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor, type AnyActorRef } from 'xstate';
import { KmsRecoverError } from '../../errors/index.js';
import { positionOf, recoveryMachine, type RecoveryInput, type StepOutputs } from '../../machines/index.js';

const input: RecoveryInput = {
  serviceName: 'MSExchangeKMS',
  kmsdata: '/srv/Exchsrvr/Kmsdata',
  backup: '/backup/Kmsdata',
  backupManifest: { fileCount: 2, totalBytes: 10, digest: 'd1' }, kmsdataIdentity: null, manual: [],
};

type Outputs = { [K in keyof StepOutputs]: () => Promise<StepOutputs[K]> };
const happy: Outputs = {
  stopService: async () => ({ serviceState: 'stopped' }),
  clearKmsdata: async () => ({ removed: 5, remaining: 0 }),
  restoreKmsdata: async () => ({ fileCount: 2, totalBytes: 10, digest: 'd1', mismatches: [], alreadyRestored: false }),
  setCredential: async () => ({ source: 'startup-disk', length: 14 }),
  startService: async () => ({ serviceState: 'running' }),
};

function machineWith(overrides: Partial<Outputs> = {}) {
  const steps = { ...happy, ...overrides };
  return recoveryMachine.provide({
    actors: {
      stopService: fromPromise(steps.stopService),
      clearKmsdata: fromPromise(steps.clearKmsdata),
      restoreKmsdata: fromPromise(steps.restoreKmsdata),
      setCredential: fromPromise(steps.setCredential),
      startService: fromPromise(steps.startService),
    },
  });
}

const started: AnyActorRef[] = [];
function start(machine: ReturnType<typeof machineWith>, snapshot?: unknown) {
  const actor = snapshot
    ? createActor(machine, { snapshot: snapshot as never, input: undefined as never })
    : createActor(machine, { input });
  started.push(actor);
  const values: string[] = [];
  actor.subscribe((s) => values.push(JSON.stringify(s.value)));
  actor.start();
  return { actor, values };
}
afterEach(() => { for (const a of started.splice(0)) a.stop(); });

const rests = (s: { status: string; value: unknown }) => s.status === 'done' || JSON.stringify(s.value).includes('failed');

describe('recovery machine', () => {
  it('walks the six states in order and ends in the final state running', async () => {
    const { actor, values } = start(machineWith());
    const end = await waitFor(actor, rests);
    expect(end.status).toBe('done');
    expect(end.value).toBe('running');
    const topLevel = [...new Set(values.map((v) => positionOf(JSON.parse(v)).state))];
    expect(topLevel).toEqual(['reinstalled', 'stopped', 'cleared', 'restored', 'credential-set', 'running']);
    expect(end.context.facts.restored?.fileCount).toBe(2);
    expect(end.context.lastError).toBeNull();
  });

  it('does not advance when a guard rejects the reported facts', async () => {
    const { actor } = start(machineWith({ clearKmsdata: async () => ({ removed: 3, remaining: 2 }) }));
    const end = await waitFor(actor, rests);
    expect(end.value).toEqual({ stopped: 'failed' });
    expect(end.context.lastError).toMatchObject({ step: 'clearKmsdata', code: 'KMSDATA_NOT_EMPTY' });
  });

  it('a credential the operator typed in (a manual step, no length) reaches credential-set; one with a length does not', async () => {
    const typed = start(machineWith({ setCredential: async () => ({ source: 'operator', length: null }) }));
    const end = await waitFor(typed.actor, rests);
    expect(end.value).toBe('running');
    expect(end.context.facts.credential).toEqual({ source: 'operator', length: null });

    const claimed = start(machineWith({ setCredential: async () => ({ source: 'operator', length: 14 }) }));
    const refused = await waitFor(claimed.actor, rests);
    expect(refused.value).toEqual({ restored: 'failed' });
    expect(refused.context.lastError).toMatchObject({ step: 'setCredential', code: 'ALPHA_INVALID', message: expect.stringContaining('typed in by the operator') });
    expect(refused.context.facts.credential).toBeUndefined();
  });

  it('rejects a restore whose digest differs from the backup read before the clear', async () => {
    const { actor } = start(machineWith({
      restoreKmsdata: async () => ({ fileCount: 2, totalBytes: 10, digest: 'other', mismatches: [], alreadyRestored: false }),
    }));
    const end = await waitFor(actor, rests);
    expect(end.value).toEqual({ cleared: 'failed' });
    expect(end.context.lastError?.code).toBe('RESTORE_MISMATCH');
  });

  it('records a thrown step error with its code and waits; RETRY runs the step again', async () => {
    let calls = 0;
    const { actor } = start(machineWith({
      stopService: async () => {
        calls += 1;
        if (calls === 1) throw new KmsRecoverError('SERVICE_STOP_FAILED', 'still stop pending');
        return { serviceState: 'stopped' };
      },
    }));
    const failed = await waitFor(actor, rests);
    expect(failed.value).toEqual({ reinstalled: 'failed' });
    expect(failed.context.lastError).toEqual({ step: 'stopService', code: 'SERVICE_STOP_FAILED', message: 'still stop pending' });
    actor.send({ type: 'RETRY' });
    const end = await waitFor(actor, (s) => s.status === 'done');
    expect(end.value).toBe('running');
    expect(calls).toBe(2);
  });

  it('goes back to the credential step when the KMS rejects the alpha string', async () => {
    const { actor } = start(machineWith({
      startService: async () => { throw new KmsRecoverError('ALPHA_REJECTED', 'wrong alpha string'); },
    }));
    const end = await waitFor(actor, rests);
    expect(end.value).toEqual({ restored: 'failed' });
    expect(end.context.lastError).toMatchObject({ step: 'startService', code: 'ALPHA_REJECTED' });
  });

  it('re-runs the in-flight step when restored from a persisted snapshot', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => { release = resolve; });
    const first = start(machineWith({ restoreKmsdata: async () => { await blocked; return happy.restoreKmsdata(); } }));
    await waitFor(first.actor, (s) => JSON.stringify(s.value) === '{"cleared":"working"}');
    const persisted = first.actor.getPersistedSnapshot();
    first.actor.stop();
    release();

    let reruns = 0;
    const second = start(machineWith({ restoreKmsdata: async () => { reruns += 1; return happy.restoreKmsdata(); } }), JSON.parse(JSON.stringify(persisted)));
    const end = await waitFor(second.actor, rests);
    expect(end.value).toBe('running');
    expect(reruns).toBe(1);
  });
});
