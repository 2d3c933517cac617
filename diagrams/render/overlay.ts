import { codeWords } from '../../errors/index.js';
import type { EventRecord, RunRecord } from '../../persistence/index.js';
import { nodeById, type MachineGraph } from './machine-graph.js';

/** Where a run stands on the diagram: the node it is in, the nodes it went through, a failed step. */
export interface RunOverlay {
  runId: string;
  state: string;
  phase: string;
  /** The atomic node the run is in now: `restored.failed`, `cleared.working`, `running`. */
  current: string;
  /** Every node the run has been in, in first-visit order (the current one included). */
  visited: string[];
  /** The transitions the run took, as (node before, node after, event), in order, without repeats. */
  taken: { from: string; to: string; event: string }[];
  /** When the run rests in a failed step: which step failed, with its error code. */
  failure: { node: string; step: string | null; code: string | null } | null;
}

/** The atomic node of a checkpointed (state, phase): `running`, `restored.failed`, `stopped.working`. */
export function nodeOfPosition(graph: MachineGraph, state: string, phase: string): string {
  const node = nodeById(graph, state);
  if (node.children.length === 0) return node.id;
  const sub = phase === 'failed' || phase === 'waiting' ? phase : 'working';
  const child = node.children.find((c) => c === `${state}.${sub}`) ?? node.initial;
  return child ?? node.id;
}

/** The run as the overlay needs it (any RunRecord will do). */
export type OverlayRun = Pick<RunRecord, 'id' | 'state' | 'phase'> & { context: Pick<RunRecord['context'], 'lastError'> };

export function runOverlay(graph: MachineGraph, run: OverlayRun, events: EventRecord[]): RunOverlay {
  const visited: string[] = [];
  const add = (id: string) => { if (!visited.includes(id)) visited.push(id); };
  const taken: RunOverlay['taken'] = [];
  let at: string | null = null;
  for (const e of events) {
    // Only checkpoints move the run: the creation, and events that changed the state or phase.
    const phase = typeof e.detail?.phase === 'string' ? e.detail.phase : null;
    if (e.from !== null && phase === null) continue;
    const node = nodeOfPosition(graph, e.to, e.from === null ? 'working' : phase!);
    add(node);
    if (at !== null && !taken.some((t) => t.from === at && t.to === node && t.event === e.event)) taken.push({ from: at, to: node, event: e.event });
    at = node;
  }
  const current = nodeOfPosition(graph, run.state, run.phase);
  add(current);
  const lastError = run.context.lastError;
  return {
    runId: run.id,
    state: run.state,
    phase: run.phase,
    current,
    visited,
    taken,
    failure: run.phase === 'failed' ? { node: current, step: lastError?.step ?? null, code: lastError?.code ?? null } : null,
  };
}

/** One line for a diagram's title: `run 1a2b3c4d: restored, step startService failed: the alpha string was refused (ALPHA_REJECTED)`. */
export function overlayTitle(overlay: RunOverlay): string {
  if (overlay.failure) {
    const step = overlay.failure.step ? ` ${overlay.failure.step}` : '';
    return `run ${overlay.runId}: ${overlay.state}, step${step} failed${overlay.failure.code ? `: ${codeWords(overlay.failure.code)}` : ''}`;
  }
  if (overlay.phase === 'done') return `run ${overlay.runId}: ${overlay.state} (recovery complete)`;
  return `run ${overlay.runId}: ${overlay.state} (${overlay.phase})`;
}
