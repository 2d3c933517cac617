import { chooseAdapter, createHost } from '../../host/create-host.js';
import { holderIsAlive } from '../../recovery/lease-policy.js';
import { KMS_SERVICE_NAME } from '../../host/types.js';
import { prepareRun, startRun } from '../../recovery/start-run.js';
import { parseStepName, policiesFrom, type RunOptions } from '../../recovery/step-policy.js';
import { printPlan } from '../plan-printer.js';
import { DEFAULT_SETTLE_SECONDS, parseSettleSeconds } from '../../recovery/settle-window.js';
import { parseOriginalName } from '../../recovery/computer-name-check.js';
import { readAlpha, readAlphaIfGiven } from '../alpha-input.js';
import { progressPrinter } from '../progress-printer.js';
import { reportOutcome } from '../report-outcome.js';
import path from 'node:path';
import { databaseExists, openLogger, openSession, prepareDatabaseFolder, type Session } from '../session.js';
import { logPathFor } from '../database-location.js';
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
  const runOptions = runOptionsFrom(options);
  // The database's folder next, before the server is looked at: a folder that is missing or not
  // writable is refused before the backup is read or an alpha string asked for (the default
  // place is created here).
  const dbPath = prepareDatabaseFolder(options.db, { dryRun: options.dryRun }).path;
  const host = await createHost(adapter);
  const progress = progressPrinter(KMS_SERVICE_NAME, () => options.kmsdata);
  // An existing database is opened once the folders are proved apart (a database inside Kmsdata
  // or the backup is refused before it is touched), and a foreign or damaged one is refused
  // then; a new one is only created once the whole preflight has passed, so a refused start
  // leaves no trace.
  // Set by openStore during the preflight, or after it for a new database; closed at the end.
  const opened: { session: Session | null } = { session: null };
  try {
    const prepared = await prepareRun({
      host, dbPath, adapterName: adapter.name,
      openStore: () => {
        opened.session = !options.dryRun && databaseExists(options.db) ? openSession(options.db, { forWriting: true }) : null;
        return opened.session?.store ?? null;
      },
      files: { db: dbPath, log: logPathFor(dbPath), ...(options.startupDisk === undefined ? {} : { startupDisk: path.resolve(options.startupDisk) }) },
      kmsdata: options.kmsdata, backup: options.backup, serviceName: KMS_SERVICE_NAME,
      // A dry run asks for no alpha string: it reads one only if given, the start asks for it.
      readAlpha: () => options.dryRun ? readAlphaIfGiven(options.startupDisk) : readAlpha(options.startupDisk), progress, options: runOptions,
    });
    if (options.dryRun) {
      await printPlan(host, prepared, Boolean(options.json));
      return;
    }
    const session = opened.session ??= openSession(options.db);
    const logger = await openLogger(session.dbPath);
    const { store, leases, me } = session;
    const outcome = await withInterrupt((interrupt) => startRun(prepared, {
      store, leases, host, logger, me, isAlive: holderIsAlive, adapter, progress, dbPath: session.dbPath, interrupt,
    }));
    reportOutcome(session, outcome, Boolean(options.json));
  } finally {
    opened.session?.close();
  }
}

/** --manual, --timeout, --attempts and --backoff (each repeatable), --settle and --original-name, into the run's stored options. */
function runOptionsFrom(options: StartCommandOptions): RunOptions {
  return {
    policies: policiesFrom(options), manual: (options.manual ?? []).map(parseStepName),
    settleSeconds: options.settle === undefined ? DEFAULT_SETTLE_SECONDS : parseSettleSeconds(options.settle),
    ...(options.originalName === undefined ? {} : { originalName: parseOriginalName(options.originalName) }),
    // Where the startup disk was (never what it holds): the commands printed later carry it.
    ...(options.startupDisk === undefined ? {} : { startupDisk: path.resolve(options.startupDisk) }),
  };
}
