import fs from 'node:fs';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import { recoveryGraph, renderDiagram, runOverlay, type DiagramFormat, type RunOverlay } from '../../recovery/diagram/index.js';
import { openSession, databaseExists } from '../session.js';

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
  if (options.output) writeOutput(options.output, text);
  else process.stdout.write(text);
}

/** Writes the whole file or nothing (a temporary file renamed into place). */
function writeOutput(file: string, text: string): void {
  const target = path.resolve(file);
  const temporary = `${target}.tmp-${process.pid}`;
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new KmsRecoverError(code === 'ENOENT' ? 'PATH_MISSING' : code === 'EISDIR' ? 'PATH_NOT_DIRECTORY' : 'PATH_UNSAFE',
      `cannot write the diagram to ${target}: ${(error as Error).message}`, { path: target });
  }
}
