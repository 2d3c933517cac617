import { isKmsRecoverError } from '../../errors/index.js';
import { chooseAdapter, createHost } from '../../host/create-host.js';
import { abandonClaim, abandonRun } from '../../recovery/abandon-run.js';
import { holderIsAlive } from '../../recovery/lease-policy.js';
import { describeCondition } from '../../recovery/server-condition.js';
import { confirmOrRefuse } from '../confirm-prompt.js';
import { printJson, printLine } from '../output.js';
import { databaseExists, openSession } from '../session.js';

export interface AbandonCommandOptions {
  db?: string;
  yes?: boolean;
  json?: boolean;
  reason?: string;
  /** The server's Kmsdata, for a claim whose run is in no database any more. */
  kmsdata?: string;
  adapter?: string;
  simRoot?: string;
}

/**
 * Ends a run on purpose and releases its server; says what the server holds now. With --kmsdata,
 * releases the claim of a run that its database no longer knows (the database was lost).
 */
export async function abandonCommand(runId: string, options: AbandonCommandOptions): Promise<void> {
  if (options.kmsdata !== undefined && !(await runIsInDatabase(runId, options.db))) {
    const adapter = chooseAdapter(options.adapter, { kmsdata: options.kmsdata, simRoot: options.simRoot });
    const host = await createHost(adapter);
    const kmsdata = await host.checkKmsdataPath(options.kmsdata);
    await confirmOrRefuse(`Release the claim of run ${runId} on ${kmsdata}? Its database no longer knows it; nothing on the server is changed.`, options.yes);
    const released = await abandonClaim(host, kmsdata, runId);
    if (options.json) printJson({ runId, claimReleased: true, ...released });
    else printLine(`Released the claim of run ${runId} (${released.claim}); its database ${released.db} does not hold it. Start a new run when ready.`);
    return;
  }
  const session = openSession(options.db, { mustExist: true, forWriting: true });
  try {
    const run = session.store.getRun(runId);
    const host = await createHost({ name: run.adapter, config: run.adapterConfig });
    const report = await abandonRun({
      store: session.store, leases: session.leases, host, run, me: session.me, isAlive: holderIsAlive, reason: options.reason ?? null,
      confirm: async (condition) => {
        // Shown before the question; with --yes the report below says it once.
        if (!options.json && !options.yes) for (const line of describeCondition(condition)) process.stderr.write(`  ${line}\n`);
        await confirmOrRefuse(`Abandon run ${run.id} at ${run.state}? It is never driven again; nothing on the server is changed now.`, options.yes);
      },
    });
    if (options.json) {
      printJson({ runId: report.runId, phase: 'abandoned', state: report.state, claimReleased: report.claimReleased, condition: report.condition });
      return;
    }
    printLine(`Run ${report.runId} is abandoned at ${report.state}; the server is free for a new run.`);
    for (const line of describeCondition(report.condition)) printLine(`  ${line}`);
    printLine('Next: start a new run (kms-recover start ...); it stops the service, empties Kmsdata and restores it from the backup again.');
  } finally {
    session.close();
  }
}

async function runIsInDatabase(runId: string, db: string | undefined): Promise<boolean> {
  if (!databaseExists(db)) return false;
  const session = openSession(db, { mustExist: true });
  try {
    session.store.getRun(runId);
    return true;
  } catch (error) {
    if (isKmsRecoverError(error) && error.code === 'RUN_NOT_FOUND') return false;
    throw error;
  } finally {
    session.close();
  }
}
