import {
  overviewChain, overviewOverlay, recoveryGraph, renderDetail, renderOverview, runOverlay,
  type DiagramFormat, type MachineGraph, type OverviewOverlay,
} from '../../diagrams/render/index.js';
import { loadRunView } from '../../recovery/run-view.js';
import { writeFileWhole } from '../../host/output-file.js';
import type { RunRecord } from '../../persistence/index.js';
import { printedStatus } from '../printed-commands.js';
import { openSession, databaseExists, type Session } from '../session.js';

export interface DiagramCommandOptions {
  format?: DiagramFormat;
  /** A run id or prefix; false for `--no-run` (the bare chain even beside a database). */
  run?: string | false;
  /** The full state machine for engineers instead of the overview. */
  detail?: boolean;
  output?: string;
  db?: string;
}

/**
 * The overview (default) or the full machine (`--detail`), drawn from the machine definition.
 * The overview marks `--run`, else the database's latest run when there is a database; the
 * detailed Mermaid, DOT and SVG show a run only when `--run` names one.
 */
export async function diagramCommand(options: DiagramCommandOptions): Promise<void> {
  const format = options.format ?? 'text';
  const graph = recoveryGraph();
  const text = options.detail
    ? await renderDetail(format, withRun(options, format === 'text', (session, run) => runOverlay(graph, run, session.store.events(run.id))), graph)
    : await renderOverview(format, withRun(options, true, (session, run) => overviewOf(graph, session, run)), graph);
  if (options.output) writeFileWhole(options.output, text, 'the diagram');
  else process.stdout.write(text);
}

/** The run the diagram shows (`--run`, else the latest when `latestByDefault`), read by `read`. */
function withRun<T>(options: DiagramCommandOptions, latestByDefault: boolean, read: (session: Session, run: RunRecord) => T): T | null {
  if (options.run === false) return null;
  if (options.run === undefined && !(latestByDefault && databaseExists(options.db))) return null;
  const session = openSession(options.db, { mustExist: true });
  try {
    const run = options.run !== undefined ? session.store.getRun(options.run) : session.store.latestRun();
    return run ? read(session, run) : null;
  } finally {
    session.close();
  }
}

function overviewOf(graph: MachineGraph, session: Session, run: RunRecord): OverviewOverlay {
  const status = loadRunView(session, run);
  // Its Next line is a command printed like every other (cli/printed-commands.ts).
  return overviewOverlay(overviewChain(graph, status.kmsdata), printedStatus(status));
}
