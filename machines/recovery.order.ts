/**
 * KB Q198814's order, written once: the six states in order, and the step that leaves each one
 * (its success enters the next). Everything else about the order (what comes next, what lies
 * before, which step enters a state, which facts a state's arrival records) is derived here.
 */

/** The six states of KB Q198814, in order. `running` is final. */
export const RECOVERY_STATES = ['reinstalled', 'stopped', 'cleared', 'restored', 'credential-set', 'running'] as const;
export type RecoveryState = (typeof RECOVERY_STATES)[number];

/** A state with a step of its own: every one but the final `running`. */
export type StepState = Exclude<RecoveryState, 'running'>;

/** The named step invoked in each state; its success moves the run to the next state. */
export const STEP_OF_STATE = {
  reinstalled: 'stopService',
  stopped: 'clearKmsdata',
  cleared: 'restoreKmsdata',
  restored: 'setCredential',
  'credential-set': 'startService',
} as const satisfies Record<StepState, string>;
export type StepName = (typeof STEP_OF_STATE)[StepState];

/** The steps in the KB's order. */
export const STEP_NAMES: readonly StepName[] = RECOVERY_STATES.flatMap((state) => (state === 'running' ? [] : [STEP_OF_STATE[state]]));

/** The key under which the machine's context keeps the facts of arriving in a state. */
export const FACTS_OF_STATE = {
  stopped: 'stopped', cleared: 'cleared', restored: 'restored', 'credential-set': 'credential', running: 'running',
} as const satisfies Record<ArrivalState, string>;
export type FactsKey = (typeof FACTS_OF_STATE)[keyof typeof FACTS_OF_STATE];

/** A stored or typed value that names one of the steps (own names only: `constructor` is none). */
export function isStepName(value: unknown): value is StepName {
  return STEP_NAMES.some((step) => step === value);
}

export function isRecoveryState(name: string): name is RecoveryState {
  return RECOVERY_STATES.some((state) => state === name);
}

/** The state a stored name stands for, or null for one this definition does not know. */
export function recoveryStateOf(name: string): RecoveryState | null {
  return RECOVERY_STATES.find((state) => state === name) ?? null;
}

/** The step the run works on in `state` (null once running). */
export function stepOf(state: RecoveryState): StepName | null {
  return state === 'running' ? null : STEP_OF_STATE[state];
}

/** The state whose step `step` is. */
export function stateOfStep(step: StepName): StepState {
  const state = RECOVERY_STATES.find((s): s is StepState => s !== 'running' && STEP_OF_STATE[s] === step);
  if (!state) throw new Error(`no state runs step ${step}`);
  return state;
}

/** A state the run arrives in by a step's success: every one but the first. */
export type ArrivalState = Exclude<RecoveryState, 'reinstalled'>;

/** The state a step's success in `state` enters. */
export function stateAfter(state: StepState): ArrivalState {
  const next = RECOVERY_STATES[orderOf(state) + 1];
  if (next === undefined || next === 'reinstalled') throw new Error(`no state after ${state}`);
  return next;
}

/** The state after `state` in the KB's order (null after `running`). */
export function nextStateOf(state: RecoveryState): RecoveryState | null {
  return RECOVERY_STATES[RECOVERY_STATES.indexOf(state) + 1] ?? null;
}

/** The step whose success enters `state` (null for `reinstalled`: the operator's reinstall). */
export function stepInto(state: RecoveryState): StepName | null {
  const before = RECOVERY_STATES[RECOVERY_STATES.indexOf(state) - 1];
  return before === undefined ? null : stepOf(before);
}

/** The states before `state`, oldest first: where a REWIND from it may go. */
export function statesBefore(state: RecoveryState): RecoveryState[] {
  return RECOVERY_STATES.slice(0, RECOVERY_STATES.indexOf(state));
}

/** `state` and the states after it, in order: what a run re-entering `state` goes through again. */
export function statesFrom(state: RecoveryState): RecoveryState[] {
  return RECOVERY_STATES.slice(RECOVERY_STATES.indexOf(state));
}

/** Its place in the KB's order: `reinstalled` 0 … `running` 5. */
export function orderOf(state: RecoveryState): number {
  return RECOVERY_STATES.indexOf(state);
}

/** The facts keys that still hold once the run is (back) in `state`: those of it and the states before. */
export function factsKeptAt(state: RecoveryState): FactsKey[] {
  return [...statesBefore(state), state].flatMap((s) => (s === 'reinstalled' ? [] : [FACTS_OF_STATE[s]]));
}
