import { randomBytes } from 'node:crypto';
import { createActor } from 'xstate';
import { MACHINE_VERSION, recoveryMachine } from '../machines/index.js';
import type { AlphaString } from './alpha-string.js';
import { definitionHash } from './definition-hash.js';
import { driveRun, type DriveOptions, type DriveOutcome } from './drive-run.js';
import { checkReinstall, readBackupManifest, type CheckedPaths } from './preflight.js';
import type { Host, Manifest } from '../host/types.js';
import type { ProgressSink } from './progress.js';

export interface PrepareOptions {
  host: Host;
  kmsdata: string;
  backup: string;
  serviceName: string;
  /** Obtains the alpha string (startup disk, environment or prompt); called after the path checks. */
  readAlpha: () => Promise<AlphaString>;
  progress: ProgressSink;
}

/** Everything checked and read before a run exists: nothing on the server has changed yet. */
export interface PreparedRun {
  serviceName: string;
  checked: CheckedPaths;
  alpha: AlphaString;
  manifest: Manifest;
}

export interface StartOptions extends Omit<DriveOptions, 'runId' | 'alpha'> {
  adapter: { name: string; config: Record<string, unknown> };
}

/** Short, unique, easy to type: 8 hex characters. */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

/** KB step 1 and the prerequisites: paths, service, alpha string, the backup read once. Reads only. */
export async function prepareRun(options: PrepareOptions): Promise<PreparedRun> {
  const checked = await checkReinstall(options.host, options);
  const alpha = await options.readAlpha();
  options.progress.note(`reading the backup ${checked.backup} ...`);
  const manifest = await readBackupManifest(options.host, checked.backup);
  return { serviceName: options.serviceName, checked, alpha, manifest };
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
  };
  // Not started: this only computes the initial snapshot, with the first step not yet run.
  const initial = createActor(recoveryMachine, { input }).getPersistedSnapshot();
  store.createRun({
    id: runId, host: options.me.host, machineVersion: MACHINE_VERSION, definitionHash: definitionHash(),
    adapter: options.adapter.name, adapterConfig: options.adapter.config,
    state: 'reinstalled', phase: 'working', snapshot: initial, manifest,
  });
  logger.info({ runId, kmsdata: checked.kmsdata, backup: checked.backup, files: manifest.fileCount, bytes: manifest.totalBytes, alphaSource: alpha.source }, 'run created');
  progress.reached('reinstalled', { runId, service: checked.service, backupFiles: manifest.fileCount, backupBytes: manifest.totalBytes });
  return driveRun({ ...options, runId, alpha });
}
