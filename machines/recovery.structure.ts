import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { recoveryMachine } from './recovery.machine.js';

/**
 * The recovery machine's structure, and nothing else: each state's id, type and initial child,
 * the steps it invokes, and each transition's event, guard, targets and actions (with the
 * parameters the definition states as data). What a stored snapshot depends on, so its hash
 * (recovery/definition-hash.ts) tells whether a run was made by this definition. The KB's words
 * (`meta`) and how the diagrams draw the machine are not part of it: changing them changes no hash.
 */
export interface StateStructure {
  id: string;
  type: string;
  initial: string[];
  invoke: { id: string; src: string }[];
  on: TransitionStructure[];
  states: StateStructure[];
}

export interface TransitionStructure {
  event: string;
  guard: Named | null;
  targets: string[];
  actions: Named[];
  reenter: boolean;
}

/** A guard or an action by its name, with its parameters when they are data (a function's are not). */
interface Named {
  type: string;
  params?: unknown;
}

function named(value: unknown): Named {
  if (typeof value === 'string') return { type: value };
  if (typeof value === 'function') return { type: 'inline' };
  if (value && typeof value === 'object' && 'type' in value && typeof value.type === 'string') {
    const params = 'params' in value ? value.params : undefined;
    return params === undefined ? { type: value.type } : { type: value.type, params: typeof params === 'function' ? 'computed' : params };
  }
  return { type: 'unknown' };
}

function srcName(src: unknown): string {
  return typeof src === 'string' ? src : 'inline';
}

function stateStructure(node: AnyStateNode): StateStructure {
  const on: TransitionStructure[] = [];
  for (const [event, candidates] of node.transitions) {
    for (const t of candidates) {
      on.push({
        event,
        guard: t.guard === undefined ? null : named(t.guard),
        targets: (t.target ?? []).map((target: AnyStateNode) => target.id),
        actions: t.actions.map(named),
        reenter: t.reenter,
      });
    }
  }
  return {
    id: node.id,
    type: node.type,
    initial: node.initial?.target.map((target: AnyStateNode) => target.id) ?? [],
    invoke: node.invoke.map((i) => ({ id: i.id, src: srcName(i.src) })),
    on,
    states: Object.values(node.states).map(stateStructure),
  };
}

/** The structure of a machine (recoveryStructure: the one this build runs). */
export function machineStructure(machine: AnyStateMachine): StateStructure {
  return stateStructure(machine.root);
}

/** The structure of the recovery machine this build runs. */
export function recoveryStructure(): StateStructure {
  return machineStructure(recoveryMachine);
}
