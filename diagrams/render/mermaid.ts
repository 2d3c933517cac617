import { edgeLabel, nodeById, topLevelOrder, type GraphNode, type MachineGraph } from './machine-graph.js';
import { overlayTitle, type RunOverlay } from './overlay.js';
import { DIAGRAM_TITLE, OVERLAY_COLOURS } from './style.js';

export interface MermaidOptions {
  overlay?: RunOverlay | null;
  /** A comment placed after the header (e.g. the provenance line). */
  comment?: string;
}

/**
 * Mermaid `stateDiagram-v2`: each KB state is a composite holding its `working` and `failed`
 * substates; transitions carry their exact event names and guards. With an overlay, the run's
 * visited, current and failed nodes get their own classes and the title names the run.
 */
export function toMermaid(graph: MachineGraph, options: MermaidOptions = {}): string {
  const ids = mermaidIds(graph);
  const id = (nodeId: string) => ids.get(nodeId)!;
  const lines: string[] = [];
  const title = options.overlay ? `${DIAGRAM_TITLE}, ${overlayTitle(options.overlay)}` : DIAGRAM_TITLE;
  lines.push('---', `title: ${JSON.stringify(title)}`, '---', 'stateDiagram-v2');
  if (options.comment) lines.push(`    %% ${options.comment}`);
  lines.push(`    [*] --> ${id(graph.initial)}`);

  const emitted = new Set<number>();
  const edgeLine = (i: number, indent: string) => {
    const e = graph.edges[i]!;
    emitted.add(i);
    // A compound target is drawn as the composite itself; Mermaid enters its initial state.
    return `${indent}${id(e.source)} --> ${id(e.target)} : ${mermaidText(edgeLabel(e))}`;
  };

  const emitNode = (node: GraphNode, indent: string) => {
    const label = nodeLabel(node);
    if (node.children.length === 0) {
      lines.push(`${indent}state ${JSON.stringify(label)} as ${id(node.id)}`);
      return;
    }
    lines.push(`${indent}state ${JSON.stringify(label)} as ${id(node.id)} {`);
    const inner = `${indent}    `;
    if (node.initial) lines.push(`${inner}[*] --> ${id(node.initial)}`);
    for (const child of node.children) emitNode(nodeById(graph, child), inner);
    // Transitions that stay inside this composite are drawn inside it.
    graph.edges.forEach((e, i) => {
      if (!emitted.has(i) && isInside(e.source, node.id) && isInside(e.target, node.id) && e.target !== node.id) lines.push(edgeLine(i, inner));
    });
    lines.push(`${indent}}`);
  };

  for (const top of topLevelOrder(graph)) emitNode(top, '    ');
  graph.edges.forEach((_, i) => { if (!emitted.has(i)) lines.push(edgeLine(i, '    ')); });
  for (const final of graph.finals) if (nodeById(graph, final).parent === null) lines.push(`    ${id(final)} --> [*]`);

  if (options.overlay) {
    const o = options.overlay;
    const c = OVERLAY_COLOURS;
    lines.push(
      `    classDef visited fill:${c.visited.fill},stroke:${c.visited.stroke}`,
      `    classDef current fill:${c.current.fill},stroke:${c.current.stroke},stroke-width:3px,font-weight:bold`,
      `    classDef failed fill:${c.failed.fill},stroke:${c.failed.stroke},stroke-width:3px,font-weight:bold`,
    );
    const visited = o.visited.filter((n) => n !== o.current).map(id);
    if (visited.length) lines.push(`    class ${visited.join(',')} visited`);
    lines.push(`    class ${id(o.current)} ${o.failure ? 'failed' : 'current'}`);
  }
  return `${lines.join('\n')}\n`;
}

function nodeLabel(node: GraphNode): string {
  const parts: string[] = [];
  if (node.kbSteps) parts.push(`KB step ${node.kbSteps}`);
  if (node.type === 'final') parts.push('final');
  for (const inv of node.invoke) parts.push(`invokes ${inv.src}`);
  return parts.length ? `${node.key} (${parts.join(', ')})` : node.key;
}

function isInside(id: string, ancestor: string): boolean {
  return id.startsWith(`${ancestor}.`);
}

/** Mermaid state ids: letters, digits and underscores (`credential-set.working` → `credential_set_working`). */
export function mermaidIds(graph: MachineGraph): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const node of graph.nodes) {
    const base = node.id.replace(/[^A-Za-z0-9]+/g, '_');
    let candidate = base;
    for (let n = 2; used.has(candidate); n++) candidate = `${base}_${n}`;
    used.add(candidate);
    ids.set(node.id, candidate);
  }
  return ids;
}

/** Transition text: Mermaid ends it at a newline and reads `;` and `#` specially. */
function mermaidText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/;/g, ',').replace(/#/g, '');
}
