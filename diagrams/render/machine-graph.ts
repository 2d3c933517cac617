import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * The recovery machine as a plain graph, read from the XState definition itself (never a
 * hand-written copy): every state node, every transition with its event, guard and target,
 * the invoked step of each state, and the final state. The Mermaid, DOT, SVG and terminal
 * renderings are all drawn from this, so none of them can drift from the machine.
 */
export interface GraphNode {
  /** Path from the root joined by dots: `reinstalled`, `reinstalled.working`, `running`. */
  id: string;
  /** The node's own key: `working`. */
  key: string;
  /** The parent's id, null for a top-level state. */
  parent: string | null;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** A compound node's initial child (id), else null. */
  initial: string | null;
  children: string[];
  /** The actors this node invokes while it is active, by id and source name. */
  invoke: { id: string; src: string }[];
  /** The `kbSteps` of the node's meta, when the machine gives one (the six KB states do). */
  kbSteps: string | null;
}

export type EdgeKind = 'done' | 'error' | 'event' | 'always';

export interface GraphEdge {
  /** Id of the node that declares the transition. */
  source: string;
  /** Id of the node the transition enters (a compound target enters its initial child). */
  target: string;
  /** The exact XState event type: `xstate.done.actor.stopService`, `RETRY`. */
  event: string;
  kind: EdgeKind;
  /** For `done`/`error`: the invoked actor the event comes from. */
  actor: string | null;
  /** The guard's name (`serviceIsStopped`), or null for an unguarded transition. */
  guard: string | null;
  /** The guard's parameters when the definition states them as data (`{ target: 'stopped' }`). */
  guardParams: Record<string, unknown> | null;
  /**
   * For an unguarded transition listed after guarded ones on the same event: the guards that
   * must all have failed for it to be taken (XState takes the first enabled candidate).
   */
  otherwise: string[];
  actions: string[];
}

export interface MachineGraph {
  machineId: string;
  /** The top-level initial state. */
  initial: string;
  /** Every node, depth first in definition order (a parent before its children). */
  nodes: GraphNode[];
  /** Every transition in definition order. */
  edges: GraphEdge[];
  /** Ids of the final states. */
  finals: string[];
  /** Every event type the machine reacts to, in first-seen order. */
  events: string[];
  /** Every guard name the machine uses, in first-seen order. */
  guards: string[];
}

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';

export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const idOf = (node: AnyStateNode) => node.path.join('.');

  const visit = (node: AnyStateNode) => {
    const children = Object.values(node.states as Record<string, AnyStateNode>);
    const initialTarget = node.type === 'compound' ? node.initial.target[0] : undefined;
    nodes.push({
      id: idOf(node),
      key: node.key,
      parent: node.parent && node.parent.parent !== undefined ? idOf(node.parent) : null,
      type: node.type,
      initial: initialTarget ? idOf(initialTarget) : null,
      children: children.map(idOf),
      invoke: node.invoke.map((inv) => ({ id: inv.id, src: typeof inv.src === 'string' ? inv.src : inv.id })),
      kbSteps: kbStepsOf(node.meta),
    });
    const candidates: [string, readonly Transition[]][] = [...(node.transitions as Map<string, readonly Transition[]>).entries()];
    if (node.always?.length) candidates.push(['', node.always as readonly Transition[]]);
    for (const [event, transitions] of candidates) {
      const guardsBefore: string[] = [];
      for (const t of transitions) {
        const guard = guardName(t.guard);
        for (const target of t.target ?? []) {
          edges.push({
            source: idOf(node),
            target: idOf(target),
            event: event || 'always',
            ...kindOf(event),
            guard,
            guardParams: staticParams(t.guard),
            otherwise: guard === null ? [...guardsBefore] : [],
            actions: (t.actions ?? []).map(actionName),
          });
        }
        if (guard !== null) guardsBefore.push(guard);
      }
    }
    for (const child of children) visit(child);
  };
  for (const top of Object.values(machine.root.states as Record<string, AnyStateNode>)) visit(top);

  const initial = machine.root.initial.target[0];
  if (!initial) throw new Error(`machine ${machine.id} has no initial state`);
  return {
    machineId: machine.id,
    initial: idOf(initial),
    nodes,
    edges,
    finals: nodes.filter((n) => n.type === 'final').map((n) => n.id),
    events: unique(edges.map((e) => e.event)),
    guards: unique(edges.flatMap((e) => (e.guard ? [e.guard] : []))),
  };
}

interface Transition {
  target?: readonly AnyStateNode[] | undefined;
  guard?: unknown;
  actions?: readonly unknown[];
}

function kindOf(event: string): { kind: EdgeKind; actor: string | null } {
  if (event.startsWith(DONE_PREFIX)) return { kind: 'done', actor: event.slice(DONE_PREFIX.length) };
  if (event.startsWith(ERROR_PREFIX)) return { kind: 'error', actor: event.slice(ERROR_PREFIX.length) };
  if (event === '') return { kind: 'always', actor: null };
  return { kind: 'event', actor: null };
}

/** Named guards are strings or `{ type, params }`; an inline function shows its name. */
function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  if (typeof guard === 'function') return guard.name || 'inline guard';
  return String(guard);
}

/** `{ type, params: { … } }` with plain data params; params computed from the event are not data. */
function staticParams(guard: unknown): Record<string, unknown> | null {
  const params = (guard as { params?: unknown } | null | undefined)?.params;
  return params && typeof params === 'object' ? { ...(params as Record<string, unknown>) } : null;
}

function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (action && typeof action === 'object' && typeof (action as { type?: unknown }).type === 'string') return (action as { type: string }).type;
  if (typeof action === 'function') return (action as { type?: string }).type ?? (action.name || 'inline action');
  return String(action);
}

function kbStepsOf(meta: unknown): string | null {
  const kb = (meta as { kbSteps?: unknown } | undefined)?.kbSteps;
  return typeof kb === 'string' ? kb : null;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

// ---- queries the renderers share -------------------------------------------------------

export function nodeById(graph: MachineGraph, id: string): GraphNode {
  const node = graph.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no state node "${id}" in machine ${graph.machineId}`);
  return node;
}

/** The top-level states, in the order a run goes through them (breadth first from the initial state). */
export function topLevelOrder(graph: MachineGraph): GraphNode[] {
  const top = graph.nodes.filter((n) => n.parent === null);
  const order: string[] = [graph.initial];
  for (let i = 0; i < order.length; i++) {
    const from = order[i]!;
    for (const e of graph.edges) {
      const to = topLevelOf(e.target);
      if (topLevelOf(e.source) === from && !order.includes(to)) order.push(to);
    }
  }
  for (const n of top) if (!order.includes(n.id)) order.push(n.id); // unreachable ones last
  return order.map((id) => nodeById(graph, id));
}

export function topLevelOf(id: string): string {
  return id.split('.')[0]!;
}

/** The atomic node a transition to `id` ends in (following initial children). */
export function entryLeaf(graph: MachineGraph, id: string): string {
  let node = nodeById(graph, id);
  while (node.initial) node = nodeById(graph, node.initial);
  return node.id;
}

/** `[serviceIsStopped]`, `[!serviceIsStopped]` for the fallback, or nothing. */
export function guardLabel(edge: GraphEdge): string {
  if (edge.guard && edge.guardParams) return `[${edge.guard} ${Object.values(edge.guardParams).join(' ')}]`;
  if (edge.guard) return `[${edge.guard}]`;
  if (edge.otherwise.length) return `[${edge.otherwise.map((g) => `!${g}`).join(' && ')}]`;
  return '';
}

/** The full label of a transition: its exact event name and its guard. */
export function edgeLabel(edge: GraphEdge): string {
  const guard = guardLabel(edge);
  return guard ? `${edge.event} ${guard}` : edge.event;
}
