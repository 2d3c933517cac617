import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { Manifest, ManifestFile, ProgressCallback, VerifyReport } from '../types.js';
import { COPY_BUFFER_BYTES, failureCause, hashOpenFile, newReader, Turns, type HashWithin, type Reader } from './copy-hash.js';
import { errnoOf, fileError } from './file-errors.js';
import { fileMark, stampOf, type FileMark } from './file-stamp.js';

export type TreeEntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface TreeEntry {
  /** Relative to the walked root, `/` separators. */
  path: string;
  /** Absolute path on this platform. */
  fullPath: string;
  kind: TreeEntryKind;
  size: number;
  /** A file's identity and times, when the walk was asked for them (`marks`). */
  mark?: FileMark;
}


/** The kind of a listed entry (a Dirent) or of one looked at (Stats); a link is a link, never followed. */
export function entryKind(entry: { isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean }): TreeEntryKind {
  return entry.isSymbolicLink() ? 'symlink' : entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'other';
}

/** The progress of one long piece of work, told to whoever listens (nothing when nobody does). */
export interface ProgressCounter {
  /** One more file (or entry) done, of `bytes`. */
  done(bytes: number): void;
  /**
   * `bytes` of the file under way are copied or hashed so far: counted in the bytes done, the file
   * not yet (a multi-GB database moves while it copies). The listener bounds the rate
   * (recovery/work-progress.ts): this is called after every buffer.
   */
  within(bytes: number): void;
}

/**
 * Counts the files (or entries) done and their bytes against the totals, and reports after each,
 * and within a large file as it goes; one for the verify, the restore and the clear.
 */
export function progressCounter(filesTotal: number, bytesTotal: number, onProgress: ProgressCallback | undefined): ProgressCounter {
  const progress = { filesDone: 0, filesTotal, bytesDone: 0, bytesTotal };
  let finished = 0;
  return {
    done(bytes) {
      if (!onProgress) return;
      progress.filesDone += 1;
      finished += bytes;
      progress.bytesDone = finished;
      onProgress(progress);
    },
    within(bytes) {
      if (!onProgress) return;
      progress.bytesDone = finished + bytes;
      onProgress(progress);
    },
  };
}

/** Plain code-unit order, so the sort never depends on the locale. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function readError(error: unknown, file: string): KmsRecoverError {
  const code = errnoOf(error);
  if (code === 'ENOENT') return new KmsRecoverError('PATH_MISSING', `${file} does not exist`, { path: file }, { cause: error });
  if (code === 'ENOTDIR') return new KmsRecoverError('PATH_NOT_DIRECTORY', `${file} is not a folder`, { path: file }, { cause: error });
  return fileError(error, { file }, (failure, why) => `cannot read ${file}: ${failure === 'in-use' ? `the file is in use${process.platform === 'win32' ? ' or access is denied' : ''}`
    : failure === 'denied' ? 'permission denied (run kms-recover as a user who may read it)' : why}`);
}

/**
 * Every entry under `root` (not `root` itself), sorted by relative path. Symlinks are reported,
 * never followed, so a link cannot lead the walk outside the tree.
 */
export async function listTree(root: string, options: { sizes?: boolean; marks?: boolean } = {}): Promise<TreeEntry[]> {
  const withMarks = options.marks ?? false;
  const withSizes = withMarks || (options.sizes ?? true);
  const turns = new Turns();
  const base = path.resolve(root);
  const entries: TreeEntry[] = [];
  const pending: { rel: string; dir: string }[] = [{ rel: '', dir: base }];
  while (pending.length > 0) {
    const { rel, dir } = pending.pop()!;
    // Names from a listing hold no separator: joined by hand, not path.join (one per entry).
    const prefix = dir.endsWith(path.sep) ? dir : `${dir}${path.sep}`;
    let dirents;
    try {
      // Entry types come with the listing: no lstat per entry (walks of 1,000s of files are on
      // the restore's critical path). Synchronous, as the sizes below: a promise and a trip to
      // the thread pool per folder cost more than the listing (~0.2 ms each, 122 folders).
      if (turns.due) await turns.take();
      dirents = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      throw readError(error, dir);
    }
    const files: TreeEntry[] = [];
    for (const dirent of dirents) {
      const childRel = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      const fullPath = `${prefix}${dirent.name}`;
      const kind = entryKind(dirent);
      const entry: TreeEntry = { path: childRel, fullPath, kind, size: 0 };
      entries.push(entry);
      if (kind === 'dir') pending.push({ rel: childRel, dir: fullPath });
      if (kind === 'file') files.push(entry);
    }
    if (withSizes) {
      // Sized with synchronous lstat calls, the event loop getting its turns: a promise and a
      // thread-pool trip per file made the heap of a 2,000-file restore grow at its last check
      // (bench/memory.mjs), for no gain on a local disk.
      for (const entry of files) {
        if (turns.due) await turns.take();
        try {
          if (withMarks) {
            const stats = lstatSync(entry.fullPath, { bigint: true });
            entry.size = Number(stats.size);
            entry.mark = fileMark(stats);
          } else {
            entry.size = lstatSync(entry.fullPath).size;
          }
        } catch (error) {
          throw readError(error, entry.fullPath);
        }
      }
    }
  }
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * The reader every hash of a manifest goes through: one buffer for the process. A read stream
 * allocated and copied a buffer per MiB, and its garbage collection took longer than the hashing
 * (a 200 MiB tree: 870 ms, against 120 ms of SHA-256).
 */
let hashReader: Reader | undefined;

/** A file through SHA-256, to its end; the size is the number of bytes actually hashed. */
export async function sha256File(file: string, within: HashWithin = {}): Promise<{ size: number; sha256: string }> {
  within.signal?.throwIfAborted();
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw readError(error, file);
  }
  try {
    const outcome = await hashOpenFile(fd, Infinity, (hashReader ??= newReader()), within);
    if (!outcome.ok) throw readError(failureCause(outcome), file);
    return { size: outcome.size, sha256: outcome.sha256 };
  } finally {
    try { closeSync(fd); } catch { /* read-only: nothing to lose */ }
  }
}

/** SHA-256 over `F <path> <size> <sha>` lines (sorted by path), then `D <path>` lines (sorted). */
export function manifestDigest(files: readonly ManifestFile[], dirs: readonly string[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => comparePaths(a.path, b.path))) hash.update(`F ${f.path} ${f.size} ${f.sha256}\n`);
  for (const d of [...dirs].sort(comparePaths)) hash.update(`D ${d}\n`);
  return hash.digest('hex');
}

function unsafeEntry(entry: TreeEntry): KmsRecoverError {
  const what = entry.kind === 'symlink' ? 'a symbolic link' : 'neither a regular file nor a folder';
  return new KmsRecoverError('PATH_UNSAFE', `${entry.fullPath} is ${what}; a Kmsdata tree holds only files and folders`, { path: entry.fullPath });
}

/** Read-only description of the tree at `dir`; refuses symlinks and special files inside it. */
export async function buildManifest(dir: string): Promise<Manifest> {
  const entries = await listTree(dir);
  const files: ManifestFile[] = [];
  const dirs: string[] = [];
  for (const entry of entries) {
    if (entry.kind === 'dir') {
      dirs.push(entry.path);
    } else if (entry.kind === 'file') {
      const { size, sha256 } = await sha256File(entry.fullPath);
      files.push({ path: entry.path, size, sha256 });
    } else {
      throw unsafeEntry(entry);
    }
  }
  return {
    files,
    dirs,
    fileCount: files.length,
    totalBytes: files.reduce((sum, f) => sum + f.size, 0),
    digest: manifestDigest(files, dirs),
  };
}

/**
 * Compares what is on disk at `dir` with `manifest`. Each difference starts with the relative path,
 * then says what differs, e.g. `a/b.dat (missing)`; sorted by path. `contents: false` compares
 * names, kinds and sizes only (for a tree whose bytes were just hashed while being written).
 * `unchangedSince`: the stamp the restore left (file-stamp.ts); when the names, kinds and sizes
 * match and every file still has that identity and those times, no byte is read again.
 */
export async function compareToManifest(
  dir: string,
  manifest: Manifest,
  options: { contents?: boolean; stamp?: boolean; unchangedSince?: string | null; onProgress?: ProgressCallback; signal?: AbortSignal } = {},
): Promise<VerifyReport> {
  const hashContents = options.contents ?? true;
  // `stamp: false`: no file's identity and times are taken (the backup's check before the clear
  // needs names and sizes only); then nothing is proved unchanged, and `stamp` comes back null.
  const withStamp = options.stamp ?? true;
  const progress = progressCounter(manifest.fileCount, manifest.totalBytes, options.onProgress);
  // The stamp is taken before any byte is read: a file changed while it is hashed changes it.
  const entries = await listTree(dir, { marks: withStamp });
  const actual = new Map(entries.map((e) => [e.path, e]));
  const differences: { path: string; text: string }[] = [];
  const note = (p: string, reason: string): void => { differences.push({ path: p, text: `${p} (${reason})` }); };

  for (const d of manifest.dirs) {
    const found = actual.get(d);
    actual.delete(d);
    if (!found) note(d, 'missing folder');
    else if (found.kind !== 'dir') note(d, `a ${found.kind === 'file' ? 'file' : found.kind}, expected a folder`);
  }
  const toHash: { file: ManifestFile; found: TreeEntry }[] = [];
  for (const f of manifest.files) {
    const found = actual.get(f.path);
    actual.delete(f.path);
    if (!found) { note(f.path, 'missing'); continue; }
    if (found.kind !== 'file') { note(f.path, `a ${found.kind === 'dir' ? 'folder' : found.kind}, expected a file`); continue; }
    if (found.size !== f.size) { note(f.path, `size ${found.size}, expected ${f.size}`); continue; }
    toHash.push({ file: f, found });
  }
  for (const extra of actual.values()) {
    note(extra.path, extra.kind === 'dir' ? 'extra folder' : extra.kind === 'file' ? 'extra' : `extra ${extra.kind}`);
  }
  const stamp = withStamp && differences.length === 0 ? stampOf(toHash.map(({ file, found }) => ({ path: file.path, size: file.size, mark: found.mark }))) : null;
  const unchanged = stamp !== null && stamp === options.unchangedSince;
  if (hashContents && !unchanged) {
    for (const { file: f, found } of toHash) {
      // A time limit or a lost lease stops the hashing at the next file.
      options.signal?.throwIfAborted();
      const { size, sha256 } = await sha256File(found.fullPath, {
        onBytes: f.size > COPY_BUFFER_BYTES ? (bytes) => progress.within(Math.min(bytes, f.size)) : undefined, signal: options.signal,
      });
      if (size !== f.size) note(f.path, `size ${size}, expected ${f.size}`);
      else if (sha256 !== f.sha256) note(f.path, 'content differs');
      progress.done(f.size);
    }
  }
  differences.sort((a, b) => comparePaths(a.path, b.path));
  return { matches: differences.length === 0, differences: differences.map((d) => d.text), ...(unchanged ? { by: 'identity' as const } : hashContents ? { by: 'contents' as const } : {}), stamp };
}
