import path from 'node:path';
import { overviewChain, overviewOverlay, recoveryGraph, renderOverview } from '../../diagrams/render/index.js';
import { assertOutsideTrees } from '../../host/fs/tree-identity.js';
import { writeFileWhole } from '../../host/output-file.js';
import { reportDocument } from '../../report/document.js';
import { reportHtml } from '../../report/html.js';
import { reportMarkdown } from '../../report/markdown.js';
import { eventWords } from '../../present/event-words.js';
import { loadRunReport } from '../../recovery/run-report.js';
import { namedOrLatestRun } from '../../recovery/run-view.js';
import { printLine } from '../output.js';
import { openSession } from '../session.js';
import { TOOL_VERSION } from '../version.js';

export type ReportFormat = 'html' | 'md' | 'json';

export interface ReportCommandOptions {
  db?: string;
  format?: ReportFormat;
  output?: string;
}

const EXTENSION: Record<ReportFormat, string> = { html: 'html', md: 'md', json: 'json' };

/**
 * The incident report of a run (the latest by default): read from the database only, never
 * written; to `kms-recover-report-<run>.<ext>` in the current folder unless `-o` names a file
 * (`-o -`: standard output). Its path is printed.
 */
export async function reportCommand(runId: string | undefined, options: ReportCommandOptions): Promise<void> {
  const format = options.format ?? 'html';
  const session = openSession(options.db, { mustExist: true });
  let text: string;
  let id: string;
  let trees: { what: string; path: string }[];
  try {
    const run = namedOrLatestRun(session.store, runId, session.dbPath);
    const { report, view } = loadRunReport(session, run, { database: session.dbPath, toolVersion: TOOL_VERSION });
    id = report.run.id;
    trees = [{ what: 'Kmsdata', path: report.server.kmsdata }, { what: 'the backup', path: report.backup.folder }];
    if (format === 'json') {
      text = `${JSON.stringify(report, null, 2)}\n`;
    } else {
      const doc = reportDocument(report, session.store.events(run.id).map((e) => ({ at: e.at, words: eventWords(e) })));
      const graph = recoveryGraph();
      const overlay = overviewOverlay(overviewChain(graph, view.kmsdata), view);
      text = format === 'html'
        ? reportHtml(doc, report, await renderOverview('svg', overlay, graph))
        : reportMarkdown(doc, report, await renderOverview('text', overlay, graph));
    }
  } finally {
    session.close();
  }
  if (options.output === '-') {
    process.stdout.write(text);
    return;
  }
  const file = path.resolve(options.output ?? `kms-recover-report-${id}.${EXTENSION[format]}`);
  assertOutsideTrees(file, 'the report', trees);
  writeFileWhole(file, text, 'the report');
  printLine(`The report of run ${id} is in ${file}`);
}
