import { randomBytes } from 'node:crypto';
import { createActor } from '../machines/xstate-runtime.js';
import { MACHINE_VERSION, positionOf, recoveryMachine } from '../machines/index.js';
import type { AlphaString } from './alpha-string.js';
import { definitionHash } from './definition-hash.js';
import { driveRun, type DriveOptions, type DriveOutcome } from './drive-run.js';
import { checkReinstall, readBackupManifest, type CheckedPaths } from './preflight.js';
import type { Host, Manifest } from '../host/types.js';
import type { ProgressSink } from './progress.js';
import { KmsRecoverError } from '../errors/index.js';
import { failPoint } from '../host/fail-point.js';
import { STEP_NAMES } from '../machines/recovery.order.js';
import type { RunOptions } from './step-policy.js';
import type { RunStore } from '../persistence/index.js';
import { assertServerFree, claimedBy, serverKeyOf } from './server-claim.js';
import { assertFoldersApart, assertServicesKmsdata, type RunFiles } from './folder-checks.js';
import { checkComputerName } from './computer-name-check.js';
import { givenAlpha } from './alpha-string.js';

export interface PrepareOptions {
  host: Host;
  /**
   * Opens the database the run will be written to (null when it does not exist yet): called
   * once the folders are proved apart, so a database in a refused place is never opened or created.
   */
  openStore: () => RunStore | null;
  dbPath: string;
  /** The files the run keeps (database, log, startup disk): refused inside Kmsdata or the backup. */
  files: RunFiles;
  adapterName: string;
  kmsdata: string;
  backup: string;
  serviceName: string;
  /**
   * Obtains the alpha string (startup disk, environment or prompt); called after the path checks.
   * A dry run's gives null when none was given: it asks for none, the start will.
   */
  readAlpha: () => Promise<AlphaString | null>;
  progress: ProgressSink;
  options: RunOptions;
}

/** Everything checked and read before a run exists: nothing on the server has changed yet. */
export interface PreparedRun {
  serviceName: string;
  serverKey: string;
  checked: CheckedPaths;
  /** Null when the operator gives the alpha string to the service by hand (manual start), or a dry run was given none. */
  alpha: AlphaString | null;
  manifest: Manifest;
  options: RunOptions;
}

export interface StartOptions extends Omit<DriveOptions, 'runId' | 'alpha'> {
  adapter: { name: string; config: Record<string, unknown> };
  dbPath: string;
}

/** Short, unique, easy to type: 8 hex characters. */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

/** KB step 1 and the prerequisites: paths, service, alpha string, the backup read once. Reads only. */
export async function prepareRun(options: PrepareOptions): Promise<PreparedRun> {
  const runOptions = normaliseManualSteps(options.options);
  const checked = await checkReinstall(options.host, options);
  // The folders by what they are, before the database is opened or created (folder-checks.ts).
  await assertServicesKmsdata(options.host, options.serviceName, checked.kmsdata, checked.kmsdataIdentity);
  await assertFoldersApart(options.host, checked.kmsdata, checked.backup, options.files);
  // The KB's precondition, before the claim: a refused name changes nothing on the server.
  const computerName = await checkComputerName(options.host, runOptions.originalName);
  const store = options.openStore();
  const serverKey = serverKeyOf(checked.kmsdata, options.adapterName);
  // A claimed server is refused before the alpha string is asked for or the backup read.
  await assertServerFree(options.host, checked.kmsdata, serverKey, { store, dbPath: options.dbPath });
  const alpha = runOptions.manual?.includes('startService') ? null : await options.readAlpha();
  options.progress.note(`reading the backup ${checked.backup} ...`);
  const manifest = await readBackupManifest(options.host, checked.backup, checked.kmsdata);
  return { serviceName: options.serviceName, serverKey, checked, alpha, manifest, options: { ...runOptions, computerName } };
}

/**
 * The alpha string is typed into the service's start parameters when it is started by hand, so
 * a manual start makes the credential step manual too; the reverse cannot work.
 */
export function normaliseManualSteps(options: RunOptions): RunOptions {
  const manual = new Set(options.manual ?? []);
  if (manual.has('setCredential') && !manual.has('startService')) {
    throw new KmsRecoverError('MANUAL_STEP_INVALID',
      'a manual setCredential needs a manual startService: the alpha string is typed into the service\'s start parameters when it is started by hand');
  }
  if (manual.has('startService')) manual.add('setCredential');
  return { ...options, manual: STEP_NAMES.filter((step) => manual.has(step)) };
}

/** Creates the run at `reinstalled` with the backup manifest, then drives it. */
export async function startRun(prepared: PreparedRun, options: StartOptions): Promise<DriveOutcome> {
  const { store, progress, logger } = options;
  const { checked, manifest, alpha } = prepared;
  const runId = newRunId();
  const input = {
    serviceName: prepared.serviceName,
    kmsdata: checked.kmsdata,
    backup: checked.backup,
    backupManifest: { fileCount: manifest.fileCount, totalBytes: manifest.totalBytes, digest: manifest.digest },
    kmsdataIdentity: checked.kmsdataIdentity,
    manual: prepared.options.manual ?? [],
  };
  // Not started: this only computes the initial snapshot, with the first step not yet run.
  const unstarted = createActor(recoveryMachine, { input });
  const initial = unstarted.getPersistedSnapshot();
  // The last recovery recorded on the server before this run: not a sign of another run later.
  const recoveredBefore = options.host.recoveryRecordNow(checked.kmsdata)?.runId ?? null;
  // The server is claimed first, atomically, beside Kmsdata: of two starts at the same moment
  // (same database or not) exactly one gets it. Only then is the run written.
  const claim = await options.host.claimServer(checked.kmsdata, {
    runId, db: options.dbPath, host: options.me.host, pid: options.me.pid, processStart: options.me.processStart, claimedAt: new Date().toISOString(), kmsdata: checked.kmsdata,
    ...(typeof options.adapter.config.server === 'string' ? { server: options.adapter.config.server } : {}),
  });
  if (!claim.claimed) throw claimedBy(claim.holder, claim.path, { store, dbPath: options.dbPath });
  // Between the claim and the run's row nothing changes on the server: a crash here leaves a
  // stillborn claim, which the next start releases (releaseIfStillborn).
  failPoint('after-claim');
  try {
    store.createRun({
      id: runId, host: options.me.host, machineVersion: MACHINE_VERSION, definitionHash: definitionHash(),
      adapter: options.adapter.name, adapterConfig: options.adapter.config, serverKey: prepared.serverKey,
      // A manual stop waits for the operator from the first moment: the run is created waiting.
      ...positionOf(unstarted.getSnapshot().value), snapshot: initial, manifest, options: { ...prepared.options },
      claim: { claim: claim.path, recoveredBefore },
      params: { serviceName: prepared.serviceName, kmsdata: checked.kmsdata, backup: checked.backup },
    });
  } catch (error) {
    await options.host.releaseServerClaim(checked.kmsdata, runId);
    throw error;
  }
  failPoint('after-checkpoint:reinstalled');
  logger.info({ runId, kmsdata: checked.kmsdata, backup: checked.backup, files: manifest.fileCount, bytes: manifest.totalBytes, alphaSource: alpha?.source ?? 'operator', manual: prepared.options.manual, computerName: prepared.options.computerName }, 'run created');
  progress.reached('reinstalled', { runId, service: checked.service, backupFiles: manifest.fileCount, backupBytes: manifest.totalBytes, computerName: prepared.options.computerName, originalName: prepared.options.originalName });
  return driveRun({ ...options, runId, alpha: givenAlpha(alpha) });
}
