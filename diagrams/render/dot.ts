import { edgeLabel, entryLeaf, nodeById, topLevelOf, topLevelOrder, type GraphNode, type MachineGraph } from './machine-graph.js';
import { overlayTitle, type RunOverlay } from './overlay.js';
import { DIAGRAM_TITLE, OVERLAY_COLOURS } from './style.js';

export interface DotOptions {
  overlay?: RunOverlay | null;
  /** A `//` comment placed before the graph (e.g. the provenance line). */
  comment?: string;
}

/**
 * Graphviz DOT: each KB state is a cluster holding its `working` and `failed` substates; a
 * transition into a compound state enters its initial substate and is clipped at the cluster
 * (`lhead`). With an overlay, visited, current and failed nodes are filled in their colours.
 */
export function toDot(graph: MachineGraph, options: DotOptions = {}): string {
  const o = options.overlay ?? null;
  const title = o ? `${DIAGRAM_TITLE}\n${overlayTitle(o)}` : DIAGRAM_TITLE;
  const lines: string[] = [];
  if (options.comment) lines.push(`// ${options.comment}`);
  lines.push(`digraph ${quote(graph.machineId)} {`);
  lines.push(`  graph [compound=true, rankdir=TB, newrank=true, pad=0.4, nodesep=0.5, ranksep=0.45, fontname="Helvetica", fontsize=14, labelloc=t, label=${quote(title)}];`);
  lines.push('  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];');
  lines.push('  edge [fontname="Helvetica", fontsize=9];');
  lines.push(`  ${quote('__initial')} [shape=point, width=0.15, label=""];`);

  const clusterOf = (id: string) => quote(`cluster_${id}`);
  const emitNode = (node: GraphNode, indent: string) => {
    if (node.children.length === 0) {
      lines.push(`${indent}${quote(node.id)} [${nodeAttributes(node, o).join(', ')}];`);
      return;
    }
    lines.push(`${indent}subgraph ${clusterOf(node.id)} {`);
    const inner = `${indent}  `;
    lines.push(`${inner}label=${quote(clusterLabel(node))};`);
    lines.push(`${inner}style="rounded"; color="#555555";`);
    if (o && topLevelVisited(o, node.id)) lines.push(`${inner}bgcolor="#f3fbf4";`);
    if (node.initial) {
      lines.push(`${inner}${quote(`${node.id}.__initial`)} [shape=point, width=0.08, label=""];`);
    }
    for (const child of node.children) emitNode(nodeById(graph, child), inner);
    if (node.initial) lines.push(`${inner}${quote(`${node.id}.__initial`)} -> ${quote(node.initial)} [arrowsize=0.6];`);
    lines.push(`${indent}}`);
  };
  for (const top of topLevelOrder(graph)) emitNode(top, '  ');

  // Each KB state below the one before it: an edge into another top-level state spans enough
  // ranks to clear the source's `failed` row, and an edge back to an earlier state does not rank.
  const rankOf = new Map(topLevelOrder(graph).map((n, i) => [n.id, i]));
  const initialLeaf = entryLeaf(graph, graph.initial);
  // The machine's start: a point above the initial state's cluster, pointing at its border.
  const initialEntry = initialLeaf !== graph.initial ? `${graph.initial}.__initial` : initialLeaf;
  lines.push(`  ${quote('__initial')} -> ${quote(initialEntry)}${initialLeaf !== graph.initial ? ` [lhead=${clusterOf(graph.initial)}]` : ''};`);
  for (const e of graph.edges) {
    const target = entryLeaf(graph, e.target);
    // A transition declared on a compound state (REWIND) leaves from its cluster's border.
    const source = entryLeaf(graph, e.source);
    const attributes = [`label=${quote(edgeLabel(e))}`];
    if (target !== e.target) attributes.push(`lhead=${clusterOf(e.target)}`);
    if (source !== e.source) attributes.push(`ltail=${clusterOf(e.source)}`);
    const from = rankOf.get(topLevelOf(e.source)) ?? 0;
    const to = rankOf.get(topLevelOf(e.target)) ?? 0;
    if (to > from) attributes.push('minlen=3');
    if (to < from) attributes.push('constraint=false');
    if (e.kind === 'error') attributes.push('style=dashed');
    if (e.event === 'RETRY') attributes.push('color="#1565c0"', 'fontcolor="#1565c0"');
    // The operator's way back (`resume --from`): drawn light, so the KB's forward path stands out.
    if (e.event === 'REWIND') attributes.push('style=dotted', 'color="#9e9e9e"', 'fontcolor="#757575"');
    if (o && o.taken.some((t) => t.from === e.source && t.to === target && t.event === e.event)) attributes.push('penwidth=2.2');
    lines.push(`  ${quote(source)} -> ${quote(target)} [${attributes.join(', ')}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function nodeAttributes(node: GraphNode, o: RunOverlay | null): string[] {
  const label = [node.key];
  if (node.type === 'final') label.push(node.kbSteps ? `KB step ${node.kbSteps}, final` : 'final');
  for (const inv of node.invoke) label.push(`invokes ${inv.src}`);
  const attributes = [`label=${quote(label.join('\n'))}`];
  if (node.type === 'final') attributes.push('peripheries=2');
  if (o) {
    const c = OVERLAY_COLOURS;
    if (node.id === o.current) {
      const colour = o.failure ? c.failed : c.current;
      attributes.push(`style="rounded,filled,bold"`, `fillcolor=${quote(colour.fill)}`, `color=${quote(colour.stroke)}`, 'penwidth=3');
    } else if (o.visited.includes(node.id)) {
      attributes.push(`style="rounded,filled"`, `fillcolor=${quote(c.visited.fill)}`, `color=${quote(c.visited.stroke)}`);
    }
  }
  return attributes;
}

function clusterLabel(node: GraphNode): string {
  return node.kbSteps ? `${node.key} (KB step ${node.kbSteps})` : node.key;
}

function topLevelVisited(o: RunOverlay, id: string): boolean {
  return o.visited.some((v) => v === id || v.startsWith(`${id}.`));
}

/** A DOT double-quoted string; a newline becomes DOT's centred line break. */
export function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}
