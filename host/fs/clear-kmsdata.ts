import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KmsRecoverError } from '../../errors/index.js';
import type { ClearReport } from '../types.js';
import { assertKmsdataPath } from './kmsdata-path.js';

const IN_USE = new Set(['EBUSY', 'EPERM', 'EACCES']);
const QUARANTINE_PREFIX = 'Kmsdata.quarantine-';

/** Where a run puts the reinstall's Kmsdata files: a sibling of Kmsdata, one per run. */
export function quarantinePathFor(kmsdata: string, runId: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new KmsRecoverError('INTERNAL', `bad run id for a quarantine folder: ${runId}`);
  return path.join(path.dirname(path.resolve(kmsdata)), `${QUARANTINE_PREFIX}${runId}`);
}

/**
 * KB step 3, "delete all files", done without destroying anything: every entry of Kmsdata is
 * moved (renamed, same volume) into the run's quarantine folder beside it, which is removed only
 * once the run reaches `running`. Never touches Kmsdata itself. Idempotent: after an
 * interruption it moves what is left; an empty Kmsdata is left as is.
 */
export async function clearKmsdata(kmsdata: string, runId: string): Promise<ClearReport> {
  const dir = await assertKmsdataPath(kmsdata);
  const quarantine = quarantinePathFor(dir, runId);
  let removed = 0;
  const entries = await readdir(dir);
  if (entries.length > 0) await mkdir(quarantine, { recursive: true });
  for (const name of entries) {
    const entry = path.join(dir, name);
    try {
      await renameWithRetry(entry, await freeName(quarantine, name));
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      if (err.code !== undefined && IN_USE.has(err.code)) {
        throw new KmsRecoverError('FILE_IN_USE', `cannot delete ${entry}: the file is in use (is the KMS service still running?)`, { file: entry, errno: err.code, removed }, { cause: error });
      }
      throw new KmsRecoverError('STEP_FAILED', `cannot move ${entry} to ${quarantine}: ${err.code ?? String(error)}`, { file: entry, errno: err.code, removed }, { cause: error });
    }
    removed += 1;
  }
  const remaining = (await readdir(dir)).length;
  return { removed, remaining, quarantine };
}

/** Deletes a run's quarantine folder (after the run reached `running`). True if there was one. */
export async function removeQuarantine(kmsdata: string, runId: string): Promise<boolean> {
  const quarantine = quarantinePathFor(kmsdata, runId);
  const stats = await lstat(quarantine).catch(() => null);
  if (!stats) return false;
  if (!stats.isDirectory()) throw new KmsRecoverError('PATH_UNSAFE', `${quarantine} is not a folder; left as is`, { path: quarantine });
  await rm(quarantine, { recursive: true, force: true, maxRetries: 2, retryDelay: 100 });
  return true;
}

/** The entry's name inside the quarantine, suffixed if a previous attempt already used it. */
async function freeName(quarantine: string, name: string): Promise<string> {
  let candidate = path.join(quarantine, name);
  for (let i = 1; await lstat(candidate).then(() => true, () => false); i += 1) candidate = path.join(quarantine, `${name}.${i}`);
  return candidate;
}

async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      // Brief sharing locks (antivirus, indexer) on Windows clear within a moment.
      if (attempt >= 2 || !IN_USE.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      await sleep(100);
    }
  }
}
