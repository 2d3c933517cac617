import { randomBytes } from 'node:crypto';
import { createActor } from 'xstate';
import { MACHINE_VERSION, recoveryMachine } from '../machines/index.js';
import type { AlphaString } from './alpha-string.js';
import { definitionHash } from './definition-hash.js';
import { driveRun, type DriveOptions, type DriveOutcome } from './drive-run.js';
import { checkReinstall, readBackupManifest } from './preflight.js';

export interface StartOptions extends Omit<DriveOptions, 'runId' | 'alpha'> {
  kmsdata: string;
  backup: string;
  serviceName: string;
  adapter: { name: string; config: Record<string, unknown> };
  /** Obtains the alpha string (startup disk, environment or prompt); called after the path checks. */
  readAlpha: () => Promise<AlphaString>;
}

/** Short, unique, easy to type: 8 hex characters. */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Preflight, then the run is created at `reinstalled` with the backup manifest, then driven.
 * Any refusal happens before the run exists and before anything on the server changes.
 */
export async function startRun(options: StartOptions): Promise<DriveOutcome> {
  const { host, store, progress, logger } = options;
  const checked = await checkReinstall(host, options);
  const alpha = await options.readAlpha();
  progress.note(`reading the backup ${checked.backup} ...`);
  const manifest = await readBackupManifest(host, checked.backup);

  const runId = newRunId();
  const input = {
    serviceName: options.serviceName,
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
