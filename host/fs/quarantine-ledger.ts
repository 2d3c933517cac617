import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LedgerEntry } from '../types.js';
import { listTree, readError, sha256File } from './manifest.js';

/**
 * What an entry of Kmsdata (or of a quarantine) is, for the ledger: a file by its size and
 * SHA-256, a folder by the digest of everything in it (paths, kinds, sizes, hashes), a link or
 * anything else by its kind alone. Never follows a link. `at` may be relative to the working folder.
 */
export async function describeEntry(at: string, name: string, storedAs: string): Promise<LedgerEntry> {
  const stats = lstatSync(at);
  if (stats.isSymbolicLink()) return { name, storedAs, kind: 'symlink', size: 0, sha256: null };
  if (stats.isFile()) {
    // A reinstall's Kmsdata is many small files: read those whole (no stream per file), stream the big ones.
    if (stats.size <= SMALL_FILE_BYTES) {
      const bytes = readSmall(at);
      return { name, storedAs, kind: 'file', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
    const { size, sha256 } = await sha256File(at);
    return { name, storedAs, kind: 'file', size, sha256 };
  }
  if (!stats.isDirectory()) return { name, storedAs, kind: 'other', size: 0, sha256: null };
  const hash = createHash('sha256');
  let size = 0;
  for (const entry of await listTree(at, { sizes: false })) {
    if (entry.kind === 'file') {
      const file = await sha256File(path.join(at, ...entry.path.split('/')));
      size += file.size;
      hash.update(`F ${entry.path} ${file.size} ${file.sha256}\n`);
    } else {
      hash.update(`${entry.kind === 'dir' ? 'D' : entry.kind === 'symlink' ? 'L' : 'O'} ${entry.path}\n`);
    }
  }
  return { name, storedAs, kind: 'dir', size, sha256: hash.digest('hex') };
}

const SMALL_FILE_BYTES = 1024 * 1024;

function readSmall(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw readError(error, file);
  }
}

export function matchesLedger(found: LedgerEntry, recorded: LedgerEntry): boolean {
  return found.kind === recorded.kind && found.size === recorded.size && found.sha256 === recorded.sha256;
}
