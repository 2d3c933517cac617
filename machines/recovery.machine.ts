import { assign, fromPromise, setup } from './xstate-runtime.js';
import { ALPHA_STRING_LENGTH } from '../domain/index.js';
import { toErrorRecord, type ErrorCode } from '../errors/index.js';
import { awaitsOperator, confirmationsBefore, confirmCovers } from './recovery.manual.js';
import {
  alphaWasRejected, operatorStepNotDone, credentialIsWellFormed, kmsdataDrifted, kmsdataIsEmpty, restoreMatchesBackup, rewindTargetIs, serviceIsRunning, serviceIsStopped,
} from './recovery.guards.js';
import { KB_STEPS } from './recovery.kb-steps.js';
import { FACTS_OF_STATE, factsKeptAt, stateAfter, statesBefore, type FactsKey, type StepState } from './recovery.order.js';
import {
  type ClearFacts, type CredentialFacts, type RecoveryContext, type RecoveryEvent, type RecoveryInput, type RecoveryState,
  type RestoreFacts, type ServiceFacts, type StepError, type StepInputs, type StepName, type StepOutputs,
} from './recovery.types.js';

/**
 * Stored with every run. Bump it whenever a state, step name or context shape changes, so a
 * run made by another definition is refused (or migrated) instead of failing inside XState.
 */
export const MACHINE_VERSION = 5;

/**
 * Declares a step's input/output types. The real effect is injected with `machine.provide()`
 * by recovery/steps/ (one file per step, run by steps/step-runner.ts); this declaration is never run by the tool itself.
 */
function declaredStep<K extends StepName>(name: K) {
  return fromPromise<StepOutputs[K], StepInputs[K]>(async () => {
    throw new Error(`step ${name} has no implementation: provide it with recoveryMachine.provide()`);
  });
}

/** The facts of `target` and the states before it: what still holds of the server once the run is (back) there. */
function factsBefore(facts: RecoveryContext['facts'], target: RecoveryState): RecoveryContext['facts'] {
  const kept: readonly string[] = factsKeptAt(target);
  return Object.fromEntries(Object.entries(facts).filter(([key]) => kept.includes(key)));
}

const recoverySetup = setup({
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
    awaitsOperator: ({ context }, params: { step: StepName }) => awaitsOperator(params.step, context.manual, context.confirmed),
    confirmsStep: ({ context, event }, params: { step: StepName }) => event.type === 'CONFIRM' && confirmCovers(event.step, params.step, context.manual) !== null,
    operatorStepNotDone: (_, params: { error: unknown }) => operatorStepNotDone(params.error),
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
    recordRestoredFolder: assign((_, params: { facts: StepOutputs[StepName] }) => ('identity' in params.facts && params.facts.identity ? { kmsdataIdentity: params.facts.identity } : {})),
    // Kmsdata changed after the restore: back to `stopped`, whose facts alone still hold.
    recordDriftRedo: assign(({ context }) => ({
      facts: factsBefore(context.facts, 'stopped'),
      confirmed: confirmationsBefore(context.confirmed, 'stopped'),
      lastError: null,
      driftRedos: context.driftRedos + 1,
    })),
    // Facts of the re-entered state and later ones are no longer true of the server.
    recordRewind: assign(({ context }, params: { target: RecoveryState }) => ({
      facts: factsBefore(context.facts, params.target),
      confirmed: confirmationsBefore(context.confirmed, params.target),
      lastError: null,
      rewinds: context.rewinds + 1,
    })),
    // The operator said the manual step (and any it covers) is done: its verification runs next.
    recordConfirmation: assign(({ context, event }, params: { step: StepName }) => {
      const covers = event.type === 'CONFIRM' ? confirmCovers(event.step, params.step, context.manual) ?? [] : [];
      return { confirmed: [...context.confirmed.filter((s) => !covers.includes(s)), ...covers], lastError: null };
    }),
    // The verification found the manual step not done: what it found is kept, and the confirm no longer holds.
    recordNotDone: assign(({ context }, params: { state: RecoveryState; step: StepName; error: unknown }) => ({
      confirmed: confirmationsBefore(context.confirmed, params.state),
      lastError: { step: params.step, ...toErrorRecord(params.error) } satisfies StepError,
    })),
  },
});

/** The guard that accepts each step's facts: the next state is entered only on facts it passes. */
const ACCEPTS = {
  stopService: 'serviceIsStopped',
  clearKmsdata: 'kmsdataIsEmpty',
  restoreKmsdata: 'restoreMatchesBackup',
  setCredential: 'credentialIsWellFormed',
  startService: 'serviceIsRunning',
} as const satisfies Record<StepName, string>;

/** What a step's refused facts are recorded as (the run then rests in `failed`). */
type Refusal<K extends StepName> = (facts: StepOutputs[K], context: RecoveryContext) => { code: ErrorCode; message: string };

type DoneEvent<K extends StepName> = { event: { output: StepOutputs[K] } };
type ErrorEvent = { event: { error: unknown } };

/**
 * One KB state: its step is invoked in `working`; facts the step's guard accepts enter the next
 * state, refused facts and errors rest in `failed` until RETRY; REWIND goes back to any earlier
 * state. `errors` are the error transitions tried, in order, before resting failed. A manual
 * step (the operator's) first rests in `waiting` until CONFIRM; its `working` then verifies on
 * the server what the operator did, and a step found not done goes back to `waiting`.
 */
function stepState<K extends StepName>(state: StepState, step: K, input: (context: RecoveryContext) => StepInputs[K], refused: Refusal<K>,
  options: { errors?: readonly (ReturnType<typeof redoAfterDrift> | ReturnType<typeof alphaRejected>)[]; alsoOnAccept?: 'recordRestoredFolder' } = {}) {
  const earlier = statesBefore(state);
  const next = stateAfter(state);
  return {
    meta: KB_STEPS[state],
    ...(earlier.length ? { on: { REWIND: earlier.map(rewindTo) } } : {}),
    initial: 'entering' as const,
    states: {
      // Passed through at once (never stored): to the operator, or to the tool's own work.
      entering: {
        always: [
          { guard: { type: 'awaitsOperator' as const, params: { step } }, target: 'waiting' },
          { target: 'working' },
        ],
      },
      waiting: {
        on: {
          CONFIRM: { guard: { type: 'confirmsStep' as const, params: { step } }, target: 'working', actions: { type: 'recordConfirmation' as const, params: { step } } },
        },
      },
      working: {
        invoke: {
          id: step,
          src: step,
          input: ({ context }: { context: RecoveryContext }) => input(context),
          onDone: [
            {
              guard: { type: ACCEPTS[step], params: ({ event }: DoneEvent<K>) => event.output },
              target: `#recovery.${next}`,
              actions: [
                { type: 'recordFacts' as const, params: ({ event }: DoneEvent<K>) => ({ key: FACTS_OF_STATE[next], facts: event.output }) },
                ...(options.alsoOnAccept ? [{ type: options.alsoOnAccept, params: ({ event }: DoneEvent<K>) => ({ facts: event.output }) }] : []),
              ],
            },
            {
              target: 'failed',
              actions: {
                type: 'recordGuardRejection' as const,
                params: ({ context, event }: DoneEvent<K> & { context: RecoveryContext }) => ({ step, ...refused(event.output, context) }),
              },
            },
          ],
          onError: [
            {
              guard: { type: 'operatorStepNotDone' as const, params: ({ event }: ErrorEvent) => ({ error: event.error }) },
              target: 'waiting',
              actions: { type: 'recordNotDone' as const, params: ({ event }: ErrorEvent) => ({ state, step, error: event.error }) },
            },
            ...(options.errors ?? []),
            { target: 'failed', actions: { type: 'recordStepError' as const, params: ({ event }: ErrorEvent) => ({ step, error: event.error }) } },
          ],
        },
      },
      failed: { on: { RETRY: 'working' } },
    },
  };
}

/** REWIND back to `target`, which forgets the facts of the states after it. */
function rewindTo(target: RecoveryState) {
  return {
    guard: { type: 'rewindTargetIs' as const, params: { target } },
    target: `#recovery.${target}`,
    actions: { type: 'recordRewind' as const, params: { target } },
  };
}

/** The KMS refused the alpha string: starting again will not fix it; go back and ask for the right one. */
function alphaRejected() {
  return {
    guard: { type: 'alphaWasRejected' as const, params: ({ event }: ErrorEvent) => ({ error: event.error }) },
    target: '#recovery.restored.failed',
    actions: { type: 'recordStepError' as const, params: ({ event }: ErrorEvent) => ({ step: 'startService' as const, error: event.error }) },
  };
}

/** Kmsdata is not what the restore left (or was written into after the clear): clear it and restore it again. */
function redoAfterDrift() {
  return {
    guard: { type: 'kmsdataDrifted' as const, params: ({ event }: ErrorEvent) => ({ error: event.error }) },
    target: '#recovery.stopped',
    actions: 'recordDriftRedo' as const,
  };
}

export const recoveryMachine = recoverySetup.createMachine({
  id: 'recovery',
  initial: 'reinstalled',
  context: ({ input }) => ({ ...input, facts: {}, lastError: null, rewinds: 0, driftRedos: 0, confirmed: [] }),
  states: {
    reinstalled: stepState('reinstalled', 'stopService', (context) => ({ serviceName: context.serviceName }),
      (facts, context) => ({ code: 'SERVICE_STOP_FAILED', message: `${context.serviceName} is ${facts.serviceState} after the stop, not stopped` })),
    stopped: stepState('stopped', 'clearKmsdata', (context) => ({ serviceName: context.serviceName, kmsdata: context.kmsdata, backup: context.backup, kmsdataIdentity: context.kmsdataIdentity }),
      (facts) => ({ code: 'KMSDATA_NOT_EMPTY', message: `${facts.remaining} entries are still in Kmsdata after the clear` })),
    cleared: stepState('cleared', 'restoreKmsdata', (context) => ({ serviceName: context.serviceName, kmsdata: context.kmsdata, backup: context.backup, kmsdataIdentity: context.kmsdataIdentity }),
      (facts) => ({ code: 'RESTORE_MISMATCH', message: `the restored Kmsdata does not match the backup read before the clear (${facts.mismatches.length} differing files)` }), { errors: [redoAfterDrift()], alsoOnAccept: 'recordRestoredFolder' }),
    restored: stepState('restored', 'setCredential', (context) => ({ serviceName: context.serviceName, kmsdata: context.kmsdata, restoredStamp: context.facts.restored?.stamp ?? null }),
      (facts) => ({
        code: 'ALPHA_INVALID',
        message: facts.source === 'operator'
          ? 'the alpha string is typed in by the operator, yet a length was reported for it: the tool never reads it back'
          : `the alpha string has ${facts.length ?? 'no'} characters; an alpha string has ${ALPHA_STRING_LENGTH}`,
      }), { errors: [redoAfterDrift()] }),
    'credential-set': stepState('credential-set', 'startService', (context) => ({
      serviceName: context.serviceName, kmsdata: context.kmsdata, backup: context.backup, restoredDatabase: context.facts.restored?.database ?? null,
      restoredStamp: context.facts.restored?.stamp ?? null,
    }),
      (facts, context) => ({ code: 'SERVICE_START_FAILED', message: `${context.serviceName} is ${facts.serviceState} after the start, not running` }), { errors: [redoAfterDrift(), alphaRejected()] }),
    running: {
      meta: KB_STEPS.running,
      type: 'final',
    },
  },
});

export type RecoveryMachine = typeof recoveryMachine;
