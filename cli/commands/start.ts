import { chooseAdapter, createHost } from '../../host/create-host.js';
import { isLeaseHolderAlive } from '../../host/process-identity.js';
import { KMS_SERVICE_NAME } from '../../host/types.js';
import { startRun } from '../../recovery/start-run.js';
import { readAlpha } from '../alpha-input.js';
import { progressPrinter } from '../progress-printer.js';
import { reportOutcome } from '../report-outcome.js';
import { openLogger, openSession } from '../session.js';

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
  const session = openSession(options.db);
  const logger = await openLogger(session.dbPath);
  try {
    const outcome = await startRun({
      store: session.store, leases: session.leases, host, logger, me: session.me, isAlive: isLeaseHolderAlive,
      kmsdata: options.kmsdata, backup: options.backup, serviceName: KMS_SERVICE_NAME, adapter,
      readAlpha: () => readAlpha(options.startupDisk),
      progress: progressPrinter(KMS_SERVICE_NAME, () => options.kmsdata),
    });
    reportOutcome(session, outcome, Boolean(options.json));
  } finally {
    session.close();
  }
}
