import { lstatSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { ClearOptions, ClearReport, LedgerEntry, RunFolder } from '../types.js';
import { withinPinnedFolder } from './pinned-folder.js';
import { describeEntry } from './quarantine-ledger.js';
import { newReader } from './copy-hash.js';
import { entryKind, progressCounter } from './manifest.js';
import { fsyncDir } from './durable.js';
import { fileError, retryWhileInUse } from './file-errors.js';
import { STAGING_PREFIX } from './restore-kmsdata.js';
import { assertKmsdataPath } from './kmsdata-path.js';

const QUARANTINE_PREFIX = 'Kmsdata.quarantine-';
/** Waits before the retries of a move while a scanner or an indexer holds the entry (Windows). */
const MOVE_RETRY_MS = [100, 100];

/** Where a run puts the reinstall's Kmsdata files: a sibling of Kmsdata, one per run. */
export function quarantinePathFor(kmsdata: string, runId: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new KmsRecoverError('INTERNAL', `bad run id for a quarantine folder: ${runId}`);
  return path.join(path.dirname(path.resolve(kmsdata)), `${QUARANTINE_PREFIX}${runId}`);
}

/**
 * KB step 3, "delete all files", done without destroying anything: every entry of Kmsdata is
 * moved (renamed, same volume) into the run's quarantine folder beside it, which is removed only
 * once the run reaches `running`. Never touches Kmsdata itself.
 *
 * The folder is pinned: the work runs inside it (withinPinnedFolder), once its identity is proved
 * to be the one checked at the start, and every entry is named relative to it, so swapping
 * `Exchsrvr\Kmsdata` for a link or another folder meanwhile cannot lead a move elsewhere. Each
 * entry is recorded in the ledger (what it is, its hash) before it is moved. The folders changed
 * are flushed before the step reports. Idempotent: after an interruption it moves what is left.
 */
export async function clearKmsdata(kmsdata: string, runId: string, options: ClearOptions): Promise<ClearReport> {
  const dir = await assertKmsdataPath(kmsdata);
  const quarantine = quarantinePathFor(dir, runId);
  const quarantineHere = path.join('..', path.basename(quarantine));
  const mayAct = (): void => {
    options.signal?.throwIfAborted();
    options.assertMayAct?.();
  };
  return withinPinnedFolder(dir, options.expected, async ({ assertPinned }) => {
    let removed = 0;
    // Synchronous calls, as the moves: each is a few microseconds, a trip through libuv's thread
    // pool costs more. Each entry's kind comes with the listing (no lstat per entry).
    const entries = readdirSync('.', { withFileTypes: true });
    if (entries.length > 0) {
      mayAct();
      mkdirSync(quarantineHere, { recursive: true });
      const made = lstatSync(quarantineHere);
      if (made.isSymbolicLink() || !made.isDirectory()) {
        throw new KmsRecoverError('PATH_UNSAFE', `${quarantine} is not a plain folder; nothing was moved`, { path: quarantine });
      }
    }
    // Every entry is described (kind, size, SHA-256) and given its name in the quarantine, and
    // the whole ledger is committed in one transaction, before the first move.
    const taken = new Set(entries.length > 0 ? readdirSync(quarantineHere) : []);
    const ledger: LedgerEntry[] = [];
    const reader = newReader();
    for (const dirent of entries) {
      mayAct();
      const { name } = dirent;
      let storedAs = name;
      for (let i = 1; taken.has(storedAs); i += 1) storedAs = `${name}.${i}`;
      taken.add(storedAs);
      try {
        // A small file is described at once: no promise per entry.
        const described = describeEntry(name, name, storedAs, reader, entryKind(dirent));
        ledger.push(described instanceof Promise ? await described : described);
      } catch (error) {
        // Read to be recorded, a file the KMS holds open (Windows: share mode 0) is in use: say which, in full.
        if (error instanceof KmsRecoverError && error.code === 'FILE_IN_USE') throw moveError(error.cause, path.join(dir, name), quarantine, 0);
        throw error;
      }
    }
    if (ledger.length > 0) options.record(ledger);
    const progress = progressCounter(ledger.length, ledger.reduce((sum, e) => sum + e.size, 0), options.onProgress);
    for (const [index, { name, storedAs, size }] of ledger.entries()) {
      // Timers (the step's limit, the heartbeat) get their turn now and then, and the folder and
      // its parent are proved again: the moves name entries relative to the folder this process
      // holds, so a swap of the path cannot redirect them; the checks catch the folder itself
      // being moved away, before the first move, every 32, and after the last.
      if (index % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
      if (index % 32 === 0) assertPinned();
      mayAct();
      const to = `${quarantineHere}${path.sep}${storedAs}`;
      try {
        // Synchronous: one metadata change each, thousands of them; retried while briefly held.
        await retryWhileInUse(() => renameSync(name, to), MOVE_RETRY_MS);
      } catch (error) {
        throw moveError(error, path.join(dir, name), quarantine, removed);
      }
      removed += 1;
      progress.done(size);
    }
    // The folder emptied is still the pinned one, and what was moved must stay moved after a
    // power loss before `cleared` is committed.
    assertPinned();
    if (removed > 0) await Promise.all([fsyncDir('.'), fsyncDir(quarantineHere), fsyncDir('..')]);
    const remaining = readdirSync('.').length;
    return { removed, remaining, quarantine };
  });
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

/** A move of `entry` (or the read that records it first) that failed, in the clear's words. */
function moveError(error: unknown, entry: string, quarantine: string, removed: number): KmsRecoverError {
  return fileError(error, { file: entry, removed }, (failure, why) =>
    failure === 'in-use' ? `cannot delete ${entry}: the file is in use (is the KMS service still running?)`
      : failure === 'denied' ? `cannot move ${entry}: permission denied (run kms-recover as a user who may change Exchsrvr)`
        : `cannot move ${entry} to ${quarantine}: ${why}`);
}
