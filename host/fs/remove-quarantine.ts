import { mkdirSync, renameSync } from 'node:fs';
import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import { failPoint } from '../fail-point.js';
import type { LedgerEntry, QuarantineRemoval } from '../types.js';
import { quarantinePathFor } from './clear-kmsdata.js';
import { newReader } from './copy-hash.js';
import { fsyncDir } from './durable.js';
import { retryWhileInUse } from './file-errors.js';
import { describeEntry, matchesLedger } from './quarantine-ledger.js';
import { stagingPathFor } from './restore-kmsdata.js';

/** Waits before the retries of a move while a scanner or an indexer holds the entry (Windows). */
const MOVE_RETRY_MS = [100, 100];

/**
 * The folder, inside the quarantine, where entries proved to match their ledger wait to be
 * deleted: a name no entry of the ledger has (so the same one after a crash, from the same ledger).
 */
export function deletionFolderName(ledger: readonly LedgerEntry[]): string {
  const taken = new Set(ledger.map((e) => e.storedAs));
  let name = '.kms-recover-deleting';
  for (let i = 1; taken.has(name); i += 1) name = `.kms-recover-deleting.${i}`;
  return name;
}

/**
 * Deletes a run's staging folder and, of its quarantine, the entries that are exactly as the
 * ledger recorded them (after a run of this server reached `running`); an entry that differs or
 * that the ledger does not know is kept, and so is the quarantine folder holding it.
 *
 * A folder's deletion is many calls, and a crash can cut it off half-way: what is left of a
 * folder no longer matches its ledger entry, and would be kept for ever, as if someone had changed
 * it. So an entry proved to match is first moved (one rename) into the quarantine's deletion
 * folder, and only deleted there: after a crash, what is in the deletion folder was proved before
 * it got there, and its deletion is finished without a new proof.
 */
export async function removeQuarantine(kmsdata: string, runId: string, ledger: readonly LedgerEntry[]): Promise<QuarantineRemoval> {
  const removed: string[] = [];
  const kept: string[] = [];
  const staging = stagingPathFor(kmsdata, runId);
  if (await plainFolder(staging)) {
    await rm(staging, { recursive: true, force: true, maxRetries: 2, retryDelay: 100 });
    removed.push(staging);
  }
  const quarantine = quarantinePathFor(kmsdata, runId);
  if (await plainFolder(quarantine)) {
    const deletion = path.join(quarantine, deletionFolderName(ledger));
    const byName = new Map(ledger.map((e) => [e.storedAs, e]));
    const reader = newReader();
    const cutOff = await plainFolder(deletion); // a deletion a crash cut off
    let moved = false;
    for (const name of await readdir(quarantine)) {
      const full = path.join(quarantine, name);
      if (full === deletion) continue;
      const recorded = byName.get(name);
      if (recorded && matchesLedger(await describeEntry(full, recorded.name, name, reader), recorded)) {
        if (!moved) mkdirSync(deletion, { recursive: true });
        moved = true;
        await retryWhileInUse(() => renameSync(full, path.join(deletion, name)), MOVE_RETRY_MS);
        removed.push(full);
      } else {
        kept.push(full);
      }
    }
    // The moves are durable before the deletion begins: a power loss cannot undo a move and leave
    // a half-deleted entry back in the quarantine.
    if (moved) await fsyncDir(quarantine);
    failPoint('quarantine-deleting');
    if (await plainFolder(deletion)) {
      await rm(deletion, { recursive: true, force: true, maxRetries: 2, retryDelay: 100 });
      if (cutOff) removed.push(deletion);
    }
    if (kept.length === 0) {
      await rmdir(quarantine);
      removed.push(quarantine);
    }
  }
  if (removed.length > 0) await fsyncDir(path.dirname(path.resolve(kmsdata)));
  return { removed, kept };
}

async function plainFolder(p: string): Promise<boolean> {
  const stats = await lstat(p).catch(() => null);
  if (!stats) return false;
  if (!stats.isDirectory() || stats.isSymbolicLink()) throw new KmsRecoverError('PATH_UNSAFE', `${p} is not a folder; left as is`, { path: p });
  return true;
}
