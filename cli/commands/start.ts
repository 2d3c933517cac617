import { chooseAdapter, createHost } from '../../host/create-host.js';
import { isLeaseHolderAlive } from '../../host/process-identity.js';
import { KMS_SERVICE_NAME } from '../../host/types.js';
import { prepareRun, startRun } from '../../recovery/start-run.js';
import { readAlpha } from '../alpha-input.js';
import { progressPrinter } from '../progress-printer.js';
import { reportOutcome } from '../report-outcome.js';
import { databaseExists, openLogger, openSession } from '../session.js';

export interface StartCommandOptions {
  kmsdata: string;
  backup: string;
  adapter?: string;
  simRoot?: string;
  startupDisk?: string;
  db?: string;
  json?: boolean;
}

export async function startCommand(options: StartCommandOptions): Promise<void> {
  const adapter = chooseAdapter(options.adapter, { kmsdata: options.kmsdata, simRoot: options.simRoot });
  const host = await createHost(adapter);
  const progress = progressPrinter(KMS_SERVICE_NAME, () => options.kmsdata);
  // An existing database is checked first (a foreign or damaged one is refused at once); a new
  // one is only created once the preflight has passed, so a refused start leaves no trace.
  let session = databaseExists(options.db) ? openSession(options.db, { forWriting: true }) : null;
  try {
    const prepared = await prepareRun({
      host, kmsdata: options.kmsdata, backup: options.backup, serviceName: KMS_SERVICE_NAME,
      readAlpha: () => readAlpha(options.startupDisk), progress,
    });
    session ??= openSession(options.db);
    const logger = await openLogger(session.dbPath);
    const outcome = await startRun(prepared, {
      store: session.store, leases: session.leases, host, logger, me: session.me, isAlive: isLeaseHolderAlive, adapter, progress,
    });
    reportOutcome(session, outcome, Boolean(options.json));
  } finally {
    session?.close();
  }
}
