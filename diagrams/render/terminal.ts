import { codeWords } from '../../errors/index.js';
import { guardLabel, topLevelOf, topLevelOrder, type GraphEdge, type GraphNode, type MachineGraph } from './machine-graph.js';
import { overlayTitle, type RunOverlay } from './overlay.js';

export interface TerminalOptions {
  overlay?: RunOverlay | null;
  /** The machine's version and definition hash, for the header line. */
  version?: string;
}

/**
 * The state chain as plain ASCII lines, for a terminal (over SSH, no viewer): the top-level
 * states in the order a run goes through them, the step each invokes and the transitions that
 * leave it, and with a run the position marked: `[x]` passed, `[>]` here, `[!]` here and failed.
 */
export function toTerminal(graph: MachineGraph, options: TerminalOptions = {}): string {
  const o = options.overlay ?? null;
  const order = topLevelOrder(graph);
  const lines: string[] = [];
  const finals = graph.finals.join(', ');
  lines.push(`State machine "${graph.machineId}"${options.version ? ` (${options.version})` : ''}: ${order.length} states, final: ${finals || 'none'}`);
  lines.push(o ? `Run ${overlayTitle(o).replace(/^run /, '')}` : 'No run shown (give --run <id>, or run it beside a kms-recover database).');
  lines.push('');
  const width = Math.max(...order.map((n) => n.id.length)) + 2;
  const currentTop = o ? topLevelOf(o.current) : null;

  lines.push('       (start)');
  order.forEach((top, index) => {
    lines.push('          |');
    const mark = markOf(top, o, currentTop);
    const kb = top.kbSteps ? `KB step ${top.kbSteps}`.padEnd(12) : ''.padEnd(12);
    const invokes = stepOf(graph, top);
    const what = top.type === 'final' ? 'final state' : invokes ? `runs ${invokes}` : '';
    let line = `  ${mark} ${top.id.padEnd(width)} ${kb} ${what}`.trimEnd();
    if (o && top.id === currentTop) line += `   <== ${here(o)}`;
    lines.push(line);
    for (const detail of transitionLines(graph, top, order[index + 1]?.id ?? null)) lines.push(`          |   ${detail}`);
  });
  lines.push('');
  lines.push('done / error: the event XState sends when the step a state runs succeeds or throws (xstate.done.actor.<step> / xstate.error.actor.<step>).');
  if (o) lines.push('[x] passed   [>] the run is here   [!] the run is here, its step failed (resume retries it)   [ ] not reached yet');
  return `${lines.join('\n')}\n`;
}

function markOf(top: GraphNode, o: RunOverlay | null, currentTop: string | null): string {
  if (!o) return ' o ';
  if (top.id === currentTop) return o.failure ? '[!]' : o.phase === 'done' ? '[x]' : '[>]';
  return o.visited.some((v) => topLevelOf(v) === top.id) ? '[x]' : '[ ]';
}

function here(o: RunOverlay): string {
  if (o.failure) return `run ${o.runId} is here: ${o.current}${o.failure.code ? `, ${codeWords(o.failure.code)}` : ''}, waiting for RETRY (kms-recover resume)`;
  if (o.phase === 'done') return `run ${o.runId} ended here`;
  return `run ${o.runId} is here: ${o.current}`;
}

/** The step (invoked actor) that runs while the state is active, on itself or its substates. */
function stepOf(graph: MachineGraph, top: GraphNode): string | null {
  const nodes = [top, ...graph.nodes.filter((n) => n.id.startsWith(`${top.id}.`))];
  const srcs = [...new Set(nodes.flatMap((n) => n.invoke.map((i) => i.src)))];
  return srcs.length ? srcs.join(', ') : null;
}

/** The forward transition first, then the rest grouped as `event [guard] -> target`. */
function transitionLines(graph: MachineGraph, top: GraphNode, next: string | null): string[] {
  const inside = (id: string) => id === top.id || id.startsWith(`${top.id}.`);
  const steps = (stepOf(graph, top) ?? '').split(', ').filter(Boolean);
  const edges = graph.edges.filter((e) => inside(e.source));
  const forward = edges.filter((e) => next !== null && topLevelOf(e.target) === next);
  const rest = edges.filter((e) => !forward.includes(e));
  const out = forward.map((e) => `${short(e, steps)} -> ${e.target}`);
  // Transitions that stay in the state: group those with the same source and target on one line.
  const groups = new Map<string, GraphEdge[]>();
  for (const e of rest) {
    const key = `${e.source}\u0000${e.target}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    const from = first.source === top.id ? '' : `${relative(first.source, top)}: `;
    const target = inside(first.target) ? relative(first.target, top) : first.target;
    out.push(`${from}${group.map((e) => short(e, steps)).join(' | ')} -> ${target}`);
  }
  return out;
}

function relative(id: string, top: GraphNode): string {
  return id === top.id ? top.id : id.slice(top.id.length + 1);
}

/** `done [serviceIsStopped]` for the state's own step, else the exact event name. */
function short(e: GraphEdge, steps: string[]): string {
  const own = e.actor !== null && steps.includes(e.actor);
  const name = own ? e.kind : e.event;
  const guard = guardLabel(e);
  return guard ? `${name} ${guard}` : name;
}
