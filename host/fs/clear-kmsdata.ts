import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KmsRecoverError } from '../../errors/index.js';
import type { ChangeGuard, ClearReport, RunFolder } from '../types.js';
import { fsyncDir } from './durable.js';
import { STAGING_PREFIX, stagingPathFor } from './restore-kmsdata.js';
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
export async function clearKmsdata(kmsdata: string, runId: string, guard: ChangeGuard = {}): Promise<ClearReport> {
  const dir = await assertKmsdataPath(kmsdata);
  const quarantine = quarantinePathFor(dir, runId);
  let removed = 0;
  const entries = await readdir(dir);
  const mayAct = (): void => {
    guard.signal?.throwIfAborted();
    guard.assertMayAct?.();
  };
  if (entries.length > 0) {
    mayAct();
    await mkdir(quarantine, { recursive: true });
  }
  for (const name of entries) {
    mayAct();
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
  // What was moved must stay moved after a power loss before `cleared` is committed.
  if (removed > 0) {
    await fsyncDir(dir);
    await fsyncDir(quarantine);
    await fsyncDir(path.dirname(dir));
  }
  const remaining = (await readdir(dir)).length;
  return { removed, remaining, quarantine };
}

/**
 * Deletes a run's quarantine and staging folders (after a run of this server reached `running`).
 * True if there was one.
 */
export async function removeQuarantine(kmsdata: string, runId: string): Promise<boolean> {
  let removed = false;
  for (const folder of [quarantinePathFor(kmsdata, runId), stagingPathFor(kmsdata, runId)]) {
    const stats = await lstat(folder).catch(() => null);
    if (!stats) continue;
    if (!stats.isDirectory() || stats.isSymbolicLink()) throw new KmsRecoverError('PATH_UNSAFE', `${folder} is not a folder; left as is`, { path: folder });
    await rm(folder, { recursive: true, force: true, maxRetries: 2, retryDelay: 100 });
    removed = true;
  }
  if (removed) await fsyncDir(path.dirname(path.resolve(kmsdata)));
  return removed;
}

/** The quarantine and staging folders of every run, found beside Kmsdata. Read-only. */
export async function runFolders(kmsdata: string): Promise<RunFolder[]> {
  const parent = path.dirname(path.resolve(kmsdata));
  const folders: RunFolder[] = [];
  for (const entry of await readdir(parent, { withFileTypes: true })) {
    const kind = entry.name.startsWith(QUARANTINE_PREFIX) ? 'quarantine' : entry.name.startsWith(STAGING_PREFIX) ? 'staging' : null;
    if (kind === null || !entry.isDirectory()) continue;
    const runId = entry.name.slice(kind === 'quarantine' ? QUARANTINE_PREFIX.length : STAGING_PREFIX.length);
    const full = path.join(parent, entry.name);
    folders.push({ kind, runId, path: full, entries: (await readdir(full)).length });
  }
  return folders;
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
