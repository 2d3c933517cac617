import { printJson, printLine } from '../output.js';
import { openSession } from '../session.js';

export function listCommand(options: { db?: string; json?: boolean }): void {
  const session = openSession(options.db, { mustExist: true });
  try {
    const runs = [...session.store.listRuns()].map((r) => ({
      runId: r.id, state: r.state, phase: r.phase, done: r.phase === 'done', host: r.host, adapter: r.adapter,
      createdAt: r.createdAt, updatedAt: r.updatedAt,
    }));
    if (options.json) {
      printJson(runs);
      return;
    }
    if (runs.length === 0) {
      printLine('No runs yet.');
      return;
    }
    printLine(`${'RUN'.padEnd(10)}${'STATE'.padEnd(16)}${'PHASE'.padEnd(9)}${'UPDATED'.padEnd(26)}HOST`);
    for (const r of runs) printLine(`${r.runId.padEnd(10)}${r.state.padEnd(16)}${r.phase.padEnd(9)}${r.updatedAt.padEnd(26)}${r.host}`);
  } finally {
    session.close();
  }
}
