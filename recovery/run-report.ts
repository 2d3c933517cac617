import { MACHINE_VERSION } from '../machines/index.js';
import type { RunLeases, RunQueries, RunRecord } from '../persistence/index.js';
import { definitionHash } from './definition-hash.js';
import { reportFacts, type RunReport } from './report-facts.js';
import { loadRunView, type RunView } from './run-view.js';

/**
 * A run's incident report, read from the database only (as `status` reads it: nothing is
 * written): the projection every screen uses, the event log, the attempts and the clear's ledger.
 */
export function loadRunReport(db: { store: RunQueries; leases: RunLeases }, run: RunRecord, context: { database: string; toolVersion: string; now?: number }): { report: RunReport; view: RunView } {
  const now = context.now ?? Date.now();
  const status = loadRunView(db, run, now);
  const report = reportFacts({
    status, run,
    events: db.store.events(run.id),
    attempts: db.store.attemptRecords(run.id),
    ledger: db.store.quarantineLedger(run.id),
    tool: { name: 'kms-recover', version: context.toolVersion, machineVersion: MACHINE_VERSION, definitionHash: definitionHash() },
    database: context.database,
    generatedAt: new Date(now).toISOString(),
  });
  return { report, view: status };
}
