import { assign, fromPromise, setup } from 'xstate';
import { toErrorRecord } from '../errors/index.js';
import {
  alphaWasRejected, credentialIsWellFormed, kmsdataDrifted, kmsdataIsEmpty, restoreMatchesBackup, rewindTargetIs, serviceIsRunning, serviceIsStopped,
} from './recovery.guards.js';
import { KB_STEPS } from './recovery.kb-steps.js';
import {
  RECOVERY_STATES,
  type ClearFacts, type CredentialFacts, type RecoveryContext, type RecoveryEvent, type RecoveryInput, type RecoveryState,
  type RestoreFacts, type ServiceFacts, type StepError, type StepInputs, type StepName, type StepOutputs,
} from './recovery.types.js';

/**
 * Stored with every run. Bump it whenever a state, step name or context shape changes, so a
 * run made by another definition is refused (or migrated) instead of failing inside XState.
 */
export const MACHINE_VERSION = 3;

/**
 * Declares a step's input/output types. The real effect is injected with `machine.provide()`
 * by recovery/step-actors.ts; this declaration is never run by the tool itself.
 */
function declaredStep<K extends StepName>(name: K) {
  return fromPromise<StepOutputs[K], StepInputs[K]>(async () => {
    throw new Error(`step ${name} has no implementation: provide it with recoveryMachine.provide()`);
  });
}

type FactsKey = keyof RecoveryContext['facts'];

/** The facts key each state's arrival records. */
const FACTS_OF_STATE: Partial<Record<RecoveryState, FactsKey>> = {
  stopped: 'stopped', cleared: 'cleared', restored: 'restored', 'credential-set': 'credential', running: 'running',
};

function factsBefore(facts: RecoveryContext['facts'], target: RecoveryState): RecoveryContext['facts'] {
  const kept = RECOVERY_STATES.slice(0, RECOVERY_STATES.indexOf(target) + 1).map((state) => FACTS_OF_STATE[state]);
  return Object.fromEntries(Object.entries(facts).filter(([key]) => kept.includes(key as FactsKey)));
}

/** One guarded REWIND transition per earlier state a state may go back to. */
function rewindTo(...targets: RecoveryState[]) {
  return targets.map((target) => ({
    guard: { type: 'rewindTargetIs' as const, params: { target } },
    target: `#recovery.${target}`,
    actions: { type: 'recordRewind' as const, params: { target } },
  }));
}

/** Kmsdata is not what the restore left (or was written into after the clear): clear it and restore it again. */
const REDO_AFTER_DRIFT = {
  guard: { type: 'kmsdataDrifted' as const, params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) },
  target: '#recovery.stopped',
  actions: 'recordDriftRedo' as const,
};

export const recoveryMachine = setup({
  types: {} as { context: RecoveryContext; input: RecoveryInput; events: RecoveryEvent },
  actors: {
    stopService: declaredStep('stopService'),
    clearKmsdata: declaredStep('clearKmsdata'),
    restoreKmsdata: declaredStep('restoreKmsdata'),
    setCredential: declaredStep('setCredential'),
    startService: declaredStep('startService'),
  },
  guards: {
    serviceIsStopped: (_, facts: ServiceFacts) => serviceIsStopped(facts),
    kmsdataIsEmpty: (_, facts: ClearFacts) => kmsdataIsEmpty(facts),
    restoreMatchesBackup: ({ context }, facts: RestoreFacts) => restoreMatchesBackup(facts, context.backupManifest),
    credentialIsWellFormed: (_, facts: CredentialFacts) => credentialIsWellFormed(facts),
    serviceIsRunning: (_, facts: ServiceFacts) => serviceIsRunning(facts),
    alphaWasRejected: (_, params: { error: unknown }) => alphaWasRejected(params.error),
    kmsdataDrifted: ({ context }, params: { error: unknown }) => kmsdataDrifted(params.error, context.driftRedos),
    rewindTargetIs: ({ event }, params: { target: RecoveryState }) => event.type === 'REWIND' && rewindTargetIs(event.to, params.target),
  },
  actions: {
    recordFacts: assign(({ context }, params: { key: FactsKey; facts: RecoveryContext['facts'][FactsKey] }) => ({
      facts: { ...context.facts, [params.key]: params.facts },
      lastError: null,
    })),
    recordStepError: assign((_, params: { step: StepName; error: unknown }) => ({
      lastError: { step: params.step, ...toErrorRecord(params.error) } satisfies StepError,
    })),
    recordGuardRejection: assign((_, params: StepError) => ({ lastError: params })),
    // The restore leaves a new folder in place (its staging copy): later steps pin that one.
    recordRestoredFolder: assign((_, params: { facts: RestoreFacts }) => (params.facts.identity ? { kmsdataIdentity: params.facts.identity } : {})),
    // Kmsdata changed after the restore: back to `stopped`, whose facts alone still hold.
    recordDriftRedo: assign(({ context }) => ({
      facts: factsBefore(context.facts, 'stopped'),
      lastError: null,
      driftRedos: context.driftRedos + 1,
    })),
    // Facts of the re-entered state and later ones are no longer true of the server.
    recordRewind: assign(({ context }, params: { target: RecoveryState }) => ({
      facts: factsBefore(context.facts, params.target),
      lastError: null,
      rewinds: context.rewinds + 1,
    })),
  },
}).createMachine({
  id: 'recovery',
  initial: 'reinstalled',
  context: ({ input }) => ({ ...input, facts: {}, lastError: null, rewinds: 0, driftRedos: 0 }),
  states: {
    reinstalled: {
      meta: KB_STEPS.reinstalled,
      initial: 'working',
      states: {
        working: {
          invoke: {
            id: 'stopService',
            src: 'stopService',
            input: ({ context }) => ({ serviceName: context.serviceName }),
            onDone: [
              {
                guard: { type: 'serviceIsStopped', params: ({ event }) => event.output },
                target: '#recovery.stopped',
                actions: { type: 'recordFacts', params: ({ event }) => ({ key: 'stopped', facts: event.output }) },
              },
              {
                target: 'failed',
                actions: {
                  type: 'recordGuardRejection',
                  params: ({ context, event }) => ({
                    step: 'stopService', code: 'SERVICE_STOP_FAILED',
                    message: `${context.serviceName} is ${event.output.serviceState} after the stop, not stopped`,
                  }),
                },
              },
            ],
            onError: {
              target: 'failed',
              actions: { type: 'recordStepError', params: ({ event }) => ({ step: 'stopService', error: event.error }) },
            },
          },
        },
        failed: { on: { RETRY: 'working' } },
      },
    },
    stopped: {
      meta: KB_STEPS.stopped,
      on: { REWIND: rewindTo('reinstalled') },
      initial: 'working',
      states: {
        working: {
          invoke: {
            id: 'clearKmsdata',
            src: 'clearKmsdata',
            input: ({ context }) => ({ serviceName: context.serviceName, kmsdata: context.kmsdata, backup: context.backup, kmsdataIdentity: context.kmsdataIdentity }),
            onDone: [
              {
                guard: { type: 'kmsdataIsEmpty', params: ({ event }) => event.output },
                target: '#recovery.cleared',
                actions: { type: 'recordFacts', params: ({ event }) => ({ key: 'cleared', facts: event.output }) },
              },
              {
                target: 'failed',
                actions: {
                  type: 'recordGuardRejection',
                  params: ({ event }) => ({
                    step: 'clearKmsdata', code: 'KMSDATA_NOT_EMPTY',
                    message: `${event.output.remaining} entries are still in Kmsdata after the clear`,
                  }),
                },
              },
            ],
            onError: {
              target: 'failed',
              actions: { type: 'recordStepError', params: ({ event }) => ({ step: 'clearKmsdata', error: event.error }) },
            },
          },
        },
        failed: { on: { RETRY: 'working' } },
      },
    },
    cleared: {
      meta: KB_STEPS.cleared,
      on: { REWIND: rewindTo('reinstalled', 'stopped') },
      initial: 'working',
      states: {
        working: {
          invoke: {
            id: 'restoreKmsdata',
            src: 'restoreKmsdata',
            input: ({ context }) => ({ serviceName: context.serviceName, kmsdata: context.kmsdata, backup: context.backup, kmsdataIdentity: context.kmsdataIdentity }),
            onDone: [
              {
                guard: { type: 'restoreMatchesBackup', params: ({ event }) => event.output },
                target: '#recovery.restored',
                actions: [
                  { type: 'recordFacts', params: ({ event }) => ({ key: 'restored', facts: event.output }) },
                  { type: 'recordRestoredFolder', params: ({ event }) => ({ facts: event.output }) },
                ],
              },
              {
                target: 'failed',
                actions: {
                  type: 'recordGuardRejection',
                  params: ({ event }) => ({
                    step: 'restoreKmsdata', code: 'RESTORE_MISMATCH',
                    message: `the restored Kmsdata does not match the backup read before the clear (${event.output.mismatches.length} differing files)`,
                  }),
                },
              },
            ],
            onError: [
              REDO_AFTER_DRIFT,
              {
                target: 'failed',
                actions: { type: 'recordStepError', params: ({ event }) => ({ step: 'restoreKmsdata', error: event.error }) },
              },
            ],
          },
        },
        failed: { on: { RETRY: 'working' } },
      },
    },
    restored: {
      meta: KB_STEPS.restored,
      on: { REWIND: rewindTo('reinstalled', 'stopped', 'cleared') },
      initial: 'working',
      states: {
        working: {
          invoke: {
            id: 'setCredential',
            src: 'setCredential',
            input: ({ context }) => ({ serviceName: context.serviceName, kmsdata: context.kmsdata }),
            onDone: [
              {
                guard: { type: 'credentialIsWellFormed', params: ({ event }) => event.output },
                target: '#recovery.credential-set',
                actions: { type: 'recordFacts', params: ({ event }) => ({ key: 'credential', facts: event.output }) },
              },
              {
                target: 'failed',
                actions: {
                  type: 'recordGuardRejection',
                  params: ({ event }) => ({
                    step: 'setCredential', code: 'ALPHA_INVALID',
                    message: `the alpha string has ${event.output.length} characters; an alpha string has 14`,
                  }),
                },
              },
            ],
            onError: [
              REDO_AFTER_DRIFT,
              {
                target: 'failed',
                actions: { type: 'recordStepError', params: ({ event }) => ({ step: 'setCredential', error: event.error }) },
              },
            ],
          },
        },
        failed: { on: { RETRY: 'working' } },
      },
    },
    'credential-set': {
      meta: KB_STEPS['credential-set'],
      on: { REWIND: rewindTo('reinstalled', 'stopped', 'cleared', 'restored') },
      initial: 'working',
      states: {
        working: {
          invoke: {
            id: 'startService',
            src: 'startService',
            input: ({ context }) => ({ serviceName: context.serviceName, kmsdata: context.kmsdata }),
            onDone: [
              {
                guard: { type: 'serviceIsRunning', params: ({ event }) => event.output },
                target: '#recovery.running',
                actions: { type: 'recordFacts', params: ({ event }) => ({ key: 'running', facts: event.output }) },
              },
              {
                target: 'failed',
                actions: {
                  type: 'recordGuardRejection',
                  params: ({ context, event }) => ({
                    step: 'startService', code: 'SERVICE_START_FAILED',
                    message: `${context.serviceName} is ${event.output.serviceState} after the start, not running`,
                  }),
                },
              },
            ],
            onError: [
              REDO_AFTER_DRIFT,
              {
                // A wrong alpha string is not fixed by starting again: go back and ask for the right one.
                guard: { type: 'alphaWasRejected', params: ({ event }) => ({ error: event.error }) },
                target: '#recovery.restored.failed',
                actions: { type: 'recordStepError', params: ({ event }) => ({ step: 'startService', error: event.error }) },
              },
              {
                target: 'failed',
                actions: { type: 'recordStepError', params: ({ event }) => ({ step: 'startService', error: event.error }) },
              },
            ],
          },
        },
        failed: { on: { RETRY: 'working' } },
      },
    },
    running: {
      meta: KB_STEPS.running,
      type: 'final',
    },
  },
});

export type RecoveryMachine = typeof recoveryMachine;
