import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs';
import type { LedgerEntry } from '../types.js';
import { hashOpenFile } from './copy-hash.js';
import type { CopyOutcome, Reader } from './copy-hash.js';
import { errnoOf } from './file-errors.js';
import { entryKind, listTree, readError } from './manifest.js';
import type { TreeEntryKind } from './manifest.js';

/**
 * How a file is opened to be recorded: read-only; never through a link swapped in after the
 * listing (O_NOFOLLOW, where the platform has it: it fails ELOOP instead); never waiting on a FIFO
 * swapped in (O_NONBLOCK); on Linux without touching its access time either (O_NOATIME: recording
 * changes nothing of the file, and saves a journal write per file), which only the file's owner
 * may ask for: a file of another owner is opened without it. Windows has none of these, and its
 * listing already tells links apart.
 */
const RECORD_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
const NO_ATIME = constants.O_NOATIME ?? 0;

function openToRecord(at: string): number {
  try {
    return openSync(at, RECORD_FLAGS | NO_ATIME);
  } catch (error) {
    if (NO_ATIME === 0 || errnoOf(error) !== 'EPERM') throw error;
    return openSync(at, RECORD_FLAGS);
  }
}

type Found = { kind: 'file'; size: number; sha256: string } | { kind: Exclude<TreeEntryKind, 'file'> };

function fileFound(outcome: CopyOutcome, at: string): Found {
  if (!outcome.ok) throw readError(Object.assign(new Error(outcome.message), { code: outcome.code }), at);
  return { kind: 'file', size: outcome.size, sha256: outcome.sha256 };
}

/**
 * What the entry at `at`, listed as a file, is once opened: a regular file with its size and
 * SHA-256 (one open, one fstat, the reads; no lstat, no buffer per file), or what it has become.
 * At once for a small file (most of a reinstall's Kmsdata: no promise per entry), else a promise.
 */
function openListedFile(at: string, reader: Reader): Found | Promise<Found> {
  let fd: number;
  try {
    fd = openToRecord(at);
  } catch (error) {
    if (errnoOf(error) === 'ELOOP') return { kind: 'symlink' };
    throw readError(error, at);
  }
  let later: Promise<Found> | undefined;
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { kind: entryKind(stats) as Exclude<TreeEntryKind, 'file'> };
    // Hashed up to the size just looked at, as a whole-file read does.
    const outcome = hashOpenFile(fd, stats.size, reader);
    if (!(outcome instanceof Promise)) return fileFound(outcome, at);
    const open = fd;
    later = outcome.then((o) => fileFound(o, at)).finally(() => closeSync(open));
    return later;
  } finally {
    if (later === undefined) closeSync(fd);
  }
}

/**
 * What an entry of Kmsdata (or of a quarantine) is, for the ledger: a file by its size and
 * SHA-256, a folder by the digest of everything in it (paths, kinds, sizes, hashes), a link or
 * anything else by its kind alone. Never follows a link. `at` may be relative to the working
 * folder; `listed` is its kind as the folder's listing gave it (else it is looked up); files are
 * read through `reader`, one at a time. At once for a small file or a link, else a promise.
 */
export function describeEntry(at: string, name: string, storedAs: string, reader: Reader, listed?: TreeEntryKind): LedgerEntry | Promise<LedgerEntry> {
  const kind = listed ?? entryKind(lstatSync(at));
  if (kind !== 'file') return describeAs(at, name, storedAs, reader, kind);
  const found = openListedFile(at, reader);
  return found instanceof Promise ? found.then((f) => ledgerEntry(at, name, storedAs, reader, f)) : ledgerEntry(at, name, storedAs, reader, found);
}

function ledgerEntry(at: string, name: string, storedAs: string, reader: Reader, found: Found): LedgerEntry | Promise<LedgerEntry> {
  return found.kind === 'file' ? { name, storedAs, ...found } : describeAs(at, name, storedAs, reader, found.kind);
}

/** An entry that is not a regular file: a folder by its tree's digest, anything else by its kind. */
function describeAs(at: string, name: string, storedAs: string, reader: Reader, kind: Exclude<TreeEntryKind, 'file'>): LedgerEntry | Promise<LedgerEntry> {
  return kind === 'dir' ? describeTree(at, name, storedAs, reader) : { name, storedAs, kind, size: 0, sha256: null };
}

async function describeTree(at: string, name: string, storedAs: string, reader: Reader): Promise<LedgerEntry> {
  const hash = createHash('sha256');
  let size = 0;
  for (const entry of await listTree(at, { sizes: false })) {
    const found = entry.kind === 'file' ? await openListedFile(entry.fullPath, reader) : { kind: entry.kind };
    if (found.kind === 'file') {
      size += found.size;
      hash.update(`F ${entry.path} ${found.size} ${found.sha256}\n`);
    } else {
      hash.update(`${found.kind === 'dir' ? 'D' : found.kind === 'symlink' ? 'L' : 'O'} ${entry.path}\n`);
    }
  }
  return { name, storedAs, kind: 'dir', size, sha256: hash.digest('hex') };
}

export function matchesLedger(found: LedgerEntry, recorded: LedgerEntry): boolean {
  return found.kind === recorded.kind && found.size === recorded.size && found.sha256 === recorded.sha256;
}
