import { KB_STEPS, withKmsdata } from '../../machines/recovery.kb-steps.js';
export { kbLabel } from '../../machines/recovery.kb-steps.js';
import { RECOVERY_STATES, type RecoveryState } from '../../machines/recovery.types.js';
import { topLevelOrder, type MachineGraph } from './machine-graph.js';

/** One of the six KB states, as the administrator's overview shows it. */
export interface ChainState {
  state: RecoveryState;
  /** The KB step(s) done on reaching it: `4`, `5-6`. */
  kbSteps: string;
  final: boolean;
}

/** The KB step that leads into a state, in the KB's own words. */
export interface ChainStep {
  /** The state before, null for the first (the reinstall the administrator did before the run). */
  from: RecoveryState | null;
  to: RecoveryState;
  kbSteps: string;
  /** `stop the Exchange Key Management Server service` (no step number, no final full stop). */
  words: string;
}

/** The six states in the order a run goes through them, and the step leading into each. */
export interface OverviewChain {
  states: ChainState[];
  /** `steps[i]` leads into `states[i]`. */
  steps: ChainStep[];
}

const KB_PREFIX = /^KB steps? ([0-9-]+): (.*)$/s;

/**
 * The overview's chain: the order and the KB step numbers come from the machine (its top-level
 * states and their meta), the words from machines/recovery.kb-steps.ts. The KB's placeholder
 * `<path>\Exchsrvr\Kmsdata` becomes the run's real folder when it is known.
 */
export function overviewChain(graph: MachineGraph, kmsdata: string | null = null): OverviewChain {
  const states = topLevelOrder(graph).map((node): ChainState => {
    const state = RECOVERY_STATES.find((s) => s === node.id);
    if (!state) throw new Error(`state "${node.id}" of machine ${graph.machineId} is not one of the KB's six states`);
    return { state, kbSteps: node.kbSteps ?? KB_STEPS[state].kbSteps, final: node.type === 'final' };
  });
  const steps = states.map((to, i): ChainStep => {
    const before = states[i - 1];
    if (!before) return { from: null, to: to.state, kbSteps: to.kbSteps, words: plain(KB_STEPS[to.state].reached, kmsdata) };
    const next = KB_STEPS[before.state].next ?? '';
    const match = KB_PREFIX.exec(next);
    return { from: before.state, to: to.state, kbSteps: match?.[1] ?? to.kbSteps, words: plain(match?.[2] ?? next, kmsdata) };
  });
  return { states, steps };
}

function plain(words: string, kmsdata: string | null): string {
  return withKmsdata(words, kmsdata).replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}
