import { recoveryGraph, renderDiagram, runOverlay, type DiagramFormat, type RunOverlay } from '../../recovery/diagram/index.js';
import { openSession, databaseExists } from '../session.js';
import { writeFileWhole } from '../../host/output-file.js';

export interface DiagramCommandOptions {
  format?: DiagramFormat;
  run?: string;
  output?: string;
  db?: string;
}

/**
 * The state diagram, drawn from the machine definition. Mermaid, DOT and SVG show a run only
 * when `--run` names one (so `npm run diagrams` never depends on a database); the default
 * terminal view also marks the latest run of the database when there is one.
 */
export async function diagramCommand(options: DiagramCommandOptions): Promise<void> {
  const format = options.format ?? 'text';
  const graph = recoveryGraph();
  let overlay: RunOverlay | null = null;
  if (options.run !== undefined || (format === 'text' && databaseExists(options.db))) {
    const session = openSession(options.db, { mustExist: true });
    try {
      const run = options.run !== undefined ? session.store.getRun(options.run) : session.store.latestRun();
      if (run) overlay = runOverlay(graph, run, session.store.events(run.id));
    } finally {
      session.close();
    }
  }
  const text = await renderDiagram(format, overlay, graph);
  if (options.output) writeFileWhole(options.output, text, 'the diagram');
  else process.stdout.write(text);
}

