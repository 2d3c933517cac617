import { chooseAdapter, createHost } from '../../host/create-host.js';
import { holderIsAlive } from '../../recovery/lease-policy.js';
import { KMS_SERVICE_NAME } from '../../host/types.js';
import { prepareRun, startRun } from '../../recovery/start-run.js';
import { parseStepName, policiesFrom, type RunOptions } from '../../recovery/step-policy.js';
import { printPlan } from '../plan-printer.js';
import { DEFAULT_SETTLE_SECONDS, parseSettleSeconds } from '../../recovery/settle-window.js';
import { parseOriginalName } from '../../recovery/computer-name-check.js';
import { readAlpha } from '../alpha-input.js';
import { progressPrinter } from '../progress-printer.js';
import { reportOutcome } from '../report-outcome.js';
import { databaseExists, openLogger, openSession } from '../session.js';
import { databasePath } from '../database-location.js';
import { withInterrupt } from '../interrupt.js';

export interface StartCommandOptions {
  kmsdata: string;
  backup: string;
  adapter?: string;
  simRoot?: string;
  server?: string;
  startupDisk?: string;
  db?: string;
  json?: boolean;
  dryRun?: boolean;
  manual?: string[];
  timeout?: string[];
  attempts?: string[];
  backoff?: string[];
  settle?: string;
  originalName?: string;
}

export async function startCommand(options: StartCommandOptions): Promise<void> {
  const adapter = chooseAdapter(options.adapter, { kmsdata: options.kmsdata, simRoot: options.simRoot, server: options.server });
  const host = await createHost(adapter);
  const progress = progressPrinter(KMS_SERVICE_NAME, () => options.kmsdata);
  // An existing database is checked first (a foreign or damaged one is refused at once); a new
  // one is only created once the preflight has passed, so a refused start leaves no trace.
  const runOptions = runOptionsFrom(options);
  let session = !options.dryRun && databaseExists(options.db) ? openSession(options.db, { forWriting: true }) : null;
  try {
    const prepared = await prepareRun({
      host, store: session?.store ?? null, dbPath: databasePath(options.db), adapterName: adapter.name,
      kmsdata: options.kmsdata, backup: options.backup, serviceName: KMS_SERVICE_NAME,
      readAlpha: () => readAlpha(options.startupDisk), progress, options: runOptions,
    });
    if (options.dryRun) {
      await printPlan(host, prepared, Boolean(options.json));
      return;
    }
    session ??= openSession(options.db);
    const logger = await openLogger(session.dbPath);
    const store = session.store;
    const leases = session.leases;
    const me = session.me;
    const dbPath = session.dbPath;
    const outcome = await withInterrupt((interrupt) => startRun(prepared, {
      store, leases, host, logger, me, isAlive: holderIsAlive, adapter, progress, dbPath, interrupt,
    }));
    reportOutcome(session, outcome, Boolean(options.json));
  } finally {
    session?.close();
  }
}

/** --manual, --timeout, --attempts and --backoff (each repeatable), --settle and --original-name, into the run's stored options. */
function runOptionsFrom(options: StartCommandOptions): RunOptions {
  return {
    policies: policiesFrom(options), manual: (options.manual ?? []).map(parseStepName),
    settleSeconds: options.settle === undefined ? DEFAULT_SETTLE_SECONDS : parseSettleSeconds(options.settle),
    ...(options.originalName === undefined ? {} : { originalName: parseOriginalName(options.originalName) }),
  };
}
