import { MACHINE_VERSION, recoveryMachine } from '../../machines/index.js';
import { definitionHash } from '../../recovery/definition-hash.js';
import { machineGraph, type MachineGraph } from './machine-graph.js';
import { toDot } from './dot.js';
import { toMermaid } from './mermaid.js';
import type { RunOverlay } from './overlay.js';
import { overviewChain } from './overview-chain.js';
import { overviewDot } from './overview-dot.js';
import { overviewMermaid } from './overview-mermaid.js';
import type { OverviewOverlay } from './overview-overlay.js';
import { overviewText } from './overview-text.js';
import { provenance } from './style.js';
import { toTerminal } from './terminal.js';

export { machineGraph, edgeLabel, guardLabel, entryLeaf, topLevelOrder, topLevelOf, nodeById } from './machine-graph.js';
export type { MachineGraph, GraphNode, GraphEdge, EdgeKind } from './machine-graph.js';
export { runOverlay, nodeOfPosition, overlayTitle } from './overlay.js';
export type { RunOverlay, OverlayRun } from './overlay.js';
export { overviewChain } from './overview-chain.js';
export { overviewOverlay, MARK_WORDS } from './overview-overlay.js';
export type { OverviewOverlay, StateMark } from './overview-overlay.js';
export { toMermaid, mermaidIds } from './mermaid.js';
export { toDot } from './dot.js';
export { toTerminal } from './terminal.js';
export { overviewText } from './overview-text.js';
export { overviewMermaid } from './overview-mermaid.js';
export { overviewDot } from './overview-dot.js';

export type DiagramFormat = 'text' | 'mermaid' | 'dot' | 'svg';

/** The graph of the recovery machine this build runs. */
export function recoveryGraph(): MachineGraph {
  return machineGraph(recoveryMachine);
}

/**
 * The administrator's overview in one format: the six KB states as one chain, with a run's
 * marks when one is given. Deterministic for a given definition and overlay.
 */
export async function renderOverview(format: DiagramFormat, overlay: OverviewOverlay | null = null, graph: MachineGraph = recoveryGraph()): Promise<string> {
  const chain = overviewChain(graph, overlay?.kmsdata ?? null);
  const comment = provenance(graph.machineId, MACHINE_VERSION, definitionHash());
  switch (format) {
    case 'text': return overviewText(chain, overlay);
    case 'mermaid': return overviewMermaid(chain, { overlay, comment });
    case 'dot': return overviewDot(chain, { overlay, comment });
    case 'svg': {
      const { dotToSvg } = await import('./svg.js');
      return dotToSvg(overviewDot(chain, { overlay, comment }));
    }
  }
}

/**
 * The full machine for engineers (`--detail`) in one format, deterministic for a given definition
 * and overlay (no timestamps, definition order throughout): `npm run diagrams` commits these.
 */
export async function renderDetail(format: DiagramFormat, overlay: RunOverlay | null = null, graph: MachineGraph = recoveryGraph()): Promise<string> {
  const comment = provenance(graph.machineId, MACHINE_VERSION, definitionHash());
  switch (format) {
    case 'text': return toTerminal(graph, { overlay, version: `machine v${MACHINE_VERSION}, definition ${definitionHash()}` });
    case 'mermaid': return toMermaid(graph, { overlay, comment });
    case 'dot': return toDot(graph, { overlay, comment });
    case 'svg': {
      const { dotToSvg } = await import('./svg.js');
      return dotToSvg(toDot(graph, { overlay, comment }));
    }
  }
}
