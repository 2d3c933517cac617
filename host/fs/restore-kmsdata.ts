import { closeSync, lstatSync, open, openSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { FolderIdentity, Manifest, ManifestFile, RestoreOptions, RestoreReport } from '../types.js';
import { folderIdentity, replaced, sameIdentity } from './pinned-folder.js';
import { assertBackupPath, assertKmsdataName, assertKmsdataPath } from './kmsdata-path.js';
import { compareToManifest, listTree, manifestDigest, progressCounter } from './manifest.js';
import { COPY_BUFFER_BYTES, copyAndHash, copySmallAndHash, failureCause, keepProtection, newReader, Turns } from './copy-hash.js';
import type { CopyOutcome } from './copy-hash.js';
import { flushThen, fsyncDir } from './durable.js';
import { stampOf, type FileMark } from './file-stamp.js';
import { errnoOf, fileError, retryWhileInUse } from './file-errors.js';

/** The copy is built in a per-run folder beside Kmsdata, and renamed into place only once complete. */
export const STAGING_PREFIX = 'Kmsdata.restore-staging-';


const isWindows = process.platform === 'win32';


export function stagingPathFor(kmsdata: string, runId: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new KmsRecoverError('INTERNAL', `bad run id for a staging folder: ${runId}`);
  return path.join(path.dirname(path.resolve(kmsdata)), `${STAGING_PREFIX}${runId}`);
}

/** `rel` (a manifest path: validated plain, `/` separators) under `root`, one string per file. */
function toNative(root: string, rel: string): string {
  const native = path.sep === '/' ? rel : rel.replaceAll('/', path.sep);
  return root.endsWith(path.sep) ? `${root}${native}` : `${root}${path.sep}${native}`;
}

function invalidManifest(reason: string): KmsRecoverError {
  return new KmsRecoverError('BACKUP_INVALID', `the backup manifest is inconsistent: ${reason}`, { reason });
}

/** The manifest drives every path written, so it must be self-consistent and stay inside the tree. */
export function validateManifest(manifest: Manifest): void {
  const seen = new Set<string>();
  const dirs = new Set(manifest.dirs);
  const check = (rel: string): void => {
    const parts = rel.split('/');
    if (parts.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0') || (isWindows && s.includes(':')))) {
      throw invalidManifest(`entry ${JSON.stringify(rel)} is not a plain relative path`);
    }
    const key = isWindows ? rel.toLowerCase() : rel;
    if (seen.has(key)) throw invalidManifest(`entry ${rel} appears twice`);
    seen.add(key);
    const parent = parts.slice(0, -1).join('/');
    if (parent !== '' && !dirs.has(parent)) throw invalidManifest(`the folder of ${rel} is not listed`);
  };
  manifest.dirs.forEach(check);
  for (const f of manifest.files) {
    check(f.path);
    if (!Number.isSafeInteger(f.size) || f.size < 0 || !/^[0-9a-f]{64}$/.test(f.sha256)) throw invalidManifest(`entry ${f.path} has a bad size or hash`);
  }
  const totalBytes = manifest.files.reduce((sum, f) => sum + f.size, 0);
  if (manifest.fileCount !== manifest.files.length || manifest.totalBytes !== totalBytes
      || manifest.digest !== manifestDigest(manifest.files, manifest.dirs)) {
    throw invalidManifest('its counts or digest do not match its entries');
  }
}

/** Waits before the retries of the final rename while a scanner or an indexer holds the folder. */
const PROMOTE_RETRY_MS = [100, 200, 300, 400, 500];


function backupChanged(file: string, reason: string, cause?: unknown): KmsRecoverError {
  return new KmsRecoverError('BACKUP_CHANGED', `backup file ${file} changed since it was checked: ${reason}`, { file }, cause === undefined ? undefined : { cause });
}

function copyError(error: unknown, file: string, verb: 'read' | 'write'): KmsRecoverError {
  if (error instanceof KmsRecoverError) return error;
  return fileError(error, { file }, (failure, why) => `cannot ${verb} ${file}: ${failure === 'in-use' ? 'the file is in use' : failure === 'denied' ? 'permission denied' : why}`);
}

/** How many fsyncs are in flight at once; the file system commits concurrent ones together. */
const SYNC_CONCURRENCY = 8;

/**
 * Flushes staged files to disk in the background, SYNC_CONCURRENCY at a time, while the copy goes
 * on: a file is added as soon as it is written and verified, so the disk writes it back while
 * later files are copied and hashed. Taken one by one inside the copy loop, the fsyncs were most
 * of a restore's time (one journal commit each, bench/restore.mjs); concurrent ones share commits.
 * `drain()` waits for every fsync and throws the first failure; `settle()` waits and ignores them
 * (before the staging folder is removed after an error).
 */
class FsyncQueue {
  private readonly queue: string[] = [];
  /** fsyncs in flight: plain callbacks (flushThen), no promise per file. */
  private running = 0;
  /** Who waits for no fsync to be in flight (drain and settle may both wait). */
  private idle: (() => void)[] = [];
  private failure: { error: unknown } | undefined;
  private stopped = false;

  add(file: string): void {
    this.queue.push(file);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.failure === undefined && this.running < SYNC_CONCURRENCY && this.queue.length > 0) {
      const file = this.queue.shift()!;
      this.running += 1;
      flushThen(file, 'r+', (error) => {
        this.running -= 1;
        if (error) this.failure ??= { error: copyError(error, file, 'write') };
        this.pump();
        if (this.running === 0) for (const wake of this.idle.splice(0)) wake();
      });
    }
  }

  /** Once no fsync is in flight (and, unless stopped or failed, none is queued). */
  private async finished(): Promise<void> {
    while (this.running > 0) await new Promise<void>((resolve) => { this.idle.push(resolve); });
  }

  async drain(): Promise<void> {
    await this.finished();
    if (this.failure) throw this.failure.error;
  }

  async settle(): Promise<void> {
    this.stopped = true;
    await this.finished();
  }
}

/**
 * How often the copy asks again whether it may go on (the lease and the server's claim). The copy
 * writes only into the run's own staging folder, which changes nothing of the server's: asked
 * after every file, the claim's file and the lease were read 1,000 times in a 1,000-file restore.
 * The rename into Kmsdata, the change, is always asked for (promote).
 */
const MAY_ACT_EVERY_MS = 100;

/**
 * How many small files (one read each) are written out at once while the next ones are read and
 * hashed: each holds a buffer of COPY_BUFFER_BYTES until its write is done.
 */
const SMALL_COPIES = 4;

/** How many staging files are created ahead of the one being copied. */
const CREATE_AHEAD = 8;

/**
 * The staging files, each created exclusively (`wx`: it must not exist yet), CREATE_AHEAD ahead of
 * the copy, in libuv's pool: creating a file waits for the file system's journal while the
 * background fsyncs commit it (most of the copy loop's time when it was created in the loop:
 * 280-570 ms of a 1,000-file restore), and the copy goes on meanwhile.
 */
class AheadCreates {
  private readonly created = new Map<number, Promise<number>>();
  private next = 0;

  constructor(private readonly count: number, private readonly pathOf: (index: number) => string) {}

  /** The destination of file `index`, open for writing; the next ones are being created meanwhile. */
  take(index: number): Promise<number> {
    for (; this.next < Math.min(index + 1 + CREATE_AHEAD, this.count); this.next += 1) {
      const file = this.pathOf(this.next);
      // Its owner's only until the copy gives it the backup file's mode (copy-hash.ts, keepProtection).
      const fd = new Promise<number>((resolve, reject) => open(file, 'wx', 0o600, (error, opened) => (error ? reject(error) : resolve(opened))));
      fd.catch(() => undefined); // its taker hears of a failure
      this.created.set(this.next, fd);
    }
    const fd = this.created.get(index)!;
    this.created.delete(index);
    return fd;
  }

  /** Closes the destinations created and never taken (the copy stopped), before the staging folder goes. */
  async settle(): Promise<void> {
    const left = [...this.created.values()];
    this.created.clear();
    await Promise.all(left.map((fd) => fd.then((opened) => { try { closeSync(opened); } catch { /* nothing was written */ } }, () => undefined)));
  }
}

/** Flushes every staged folder (the staging root last) once all their files are flushed. */
async function fsyncStagingDirs(staging: string, manifest: Manifest): Promise<void> {
  const dirs = [...manifest.dirs].reverse();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(SYNC_CONCURRENCY, dirs.length) }, async () => {
    while (next < dirs.length) await fsyncDir(toNative(staging, dirs[next++]!));
  }));
  await fsyncDir(staging);
}

/**
 * Flushes every staged file, then every staged folder, to disk before the staging folder may be
 * renamed into place: nothing is promoted before all of them have succeeded.
 */
async function fsyncStaging(staging: string, manifest: Manifest): Promise<void> {
  const syncs = new FsyncQueue();
  for (const f of manifest.files) syncs.add(toNative(staging, f.path));
  try {
    await syncs.drain();
  } finally {
    await syncs.settle();
  }
  await fsyncStagingDirs(staging, manifest);
}

/**
 * Turns the outcome of one file's copy (copy-hash.ts: one read pass, every byte read hashed on
 * its way to the staging file) into its manifest entry, or the error naming the file.
 */
function verifyCopy(src: string, dst: string, expected: ManifestFile, outcome: CopyOutcome): ManifestFile {
  if (!outcome.ok) {
    const cause = failureCause(outcome);
    switch (outcome.kind) {
      case 'missing': throw backupChanged(src, 'it is missing', cause);
      case 'not-file': throw backupChanged(src, 'it is no longer a regular file');
      case 'read': throw copyError(cause, src, 'read');
      case 'write': throw copyError(cause, dst, 'write');
    }
  }
  if (outcome.size !== expected.size) throw backupChanged(src, `it now holds ${outcome.size} bytes, not ${expected.size}`);
  if (outcome.sha256 !== expected.sha256) throw backupChanged(src, 'its content differs (SHA-256 mismatch)');
  return { path: expected.path, size: outcome.size, sha256: outcome.sha256 };
}

/** The staging folders are their owner's only until they get the backup's folders' modes. */
const PRIVATE_DIR_MODE = 0o700;

/**
 * Gives the staged folders (the staging root last, children before their parents, so a folder
 * without write permission is changed last) and, with `files`, the staged files the owner
 * (as root) and mode of their counterparts in the backup. Not on Windows (keepProtection).
 */
async function keepBackupProtection(source: string, staging: string, manifest: Manifest, files: boolean): Promise<void> {
  if (isWindows) return;
  // Synchronous calls: a promise and a thread-pool trip for each of them cost more than the calls
  // (122 folders: ~20 ms against ~3 ms); the event loop gets its turns between folders.
  const turns = new Turns();
  const apply = async (from: string, to: string): Promise<void> => {
    if (turns.due) await turns.take();
    const stats = lstatSync(from);
    const fd = openSync(to, 'r');
    try {
      keepProtection(fd, stats);
    } finally {
      closeSync(fd);
    }
  };
  try {
    if (files) for (const f of manifest.files) await apply(toNative(source, f.path), toNative(staging, f.path));
    for (const rel of [...manifest.dirs].reverse()) await apply(toNative(source, rel), toNative(staging, rel));
    await apply(source, staging);
  } catch (error) {
    throw copyError(error, staging, 'write');
  }
}

/** Makes the staging folders, parents before children, the folders of one depth together. */
async function makeDirs(staging: string, dirs: readonly string[]): Promise<void> {
  const byDepth: string[][] = [];
  for (const rel of dirs) (byDepth[rel.split('/').length - 1] ??= []).push(rel);
  for (const level of byDepth) {
    if (level === undefined) continue;
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(SYNC_CONCURRENCY, level.length) }, async () => {
      while (next < level.length) await mkdir(toNative(staging, level[next++]!), PRIVATE_DIR_MODE);
    }));
  }
}

/** Replaces the empty Kmsdata with the complete staging folder. */
async function promoteStaging(staging: string, kmsdata: string): Promise<void> {
  try {
    await retryWhileInUse(() => rmdir(kmsdata), PROMOTE_RETRY_MS);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw new KmsRecoverError('KMSDATA_NOT_EMPTY', `Kmsdata is not empty: something wrote into ${kmsdata} during the restore; run the clear step first`, { path: kmsdata }, { cause: error });
    }
    if (code !== 'ENOENT') throw copyError(error, kmsdata, 'write');
  }
  try {
    await retryWhileInUse(() => rename(staging, kmsdata), PROMOTE_RETRY_MS);
  } catch (error) {
    throw fileError(error, { file: staging, kmsdata }, (failure, why) =>
      `cannot rename ${staging} to ${kmsdata}: ${failure === 'in-use' ? 'the folder is in use' : failure === 'denied' ? 'permission denied' : why}; run the restore again to finish`);
  }
  await fsyncDir(path.dirname(kmsdata));
}

/**
 * The entries of `dir` that are not the manifest's, by name and kind (`a/b.edb (extra)`,
 * `logs (missing folder)`): a listing only, no file looked at one by one.
 */
async function namesDiffer(dir: string, manifest: Manifest): Promise<string[]> {
  const expected = new Map<string, 'file' | 'dir'>([...manifest.dirs.map((d) => [d, 'dir'] as const), ...manifest.files.map((f) => [f.path, 'file'] as const)]);
  const differences: string[] = [];
  for (const entry of await listTree(dir, { sizes: false })) {
    const kind = expected.get(entry.path);
    expected.delete(entry.path);
    if (kind === undefined) differences.push(`${entry.path} (extra)`);
    else if (kind !== entry.kind) differences.push(`${entry.path} (a ${entry.kind}, expected a ${kind === 'dir' ? 'folder' : 'file'})`);
  }
  for (const [rel, kind] of expected) differences.push(`${rel} (missing${kind === 'dir' ? ' folder' : ''})`);
  return differences.sort();
}

/** `files` were verified to be the manifest's (validateManifest, and the digest check after a copy). */
function report(manifest: Manifest, files: readonly ManifestFile[], alreadyRestored: boolean, identity: FolderIdentity, stamp: string | null): RestoreReport {
  return {
    identity,
    stamp,
    fileCount: files.length,
    totalBytes: files.reduce((sum, f) => sum + f.size, 0),
    digest: manifest.digest,
    mismatches: [],
    alreadyRestored,
  };
}

async function isPlainDirectory(p: string): Promise<boolean> {
  const stats = await lstat(p).catch(() => undefined);
  return stats !== undefined && stats.isDirectory() && !stats.isSymbolicLink();
}

/** The restore's options here: the port's, and a hook after each file (the crash tests' fail points, host/fs/index.ts; unit tests). */
export interface RestoreWork extends RestoreOptions {
  /** Called after each file is written to staging and verified, before the next. */
  onFileCopied?: (relPath: string, index: number) => void | Promise<void>;
}

/**
 * Copies the backup into Kmsdata through a staging folder, checking every byte against `manifest`.
 * Safe to run again after a crash at any point: it finishes an interrupted rename, recognises a
 * Kmsdata that already matches, and otherwise starts the copy over.
 */
export async function restoreKmsdata(backup: string, kmsdata: string, manifest: Manifest, runId: string, options: RestoreWork = {}): Promise<RestoreReport> {
  validateManifest(manifest);
  const kmsResolved = path.resolve(kmsdata);
  const staging = stagingPathFor(kmsResolved, runId);
  // Before each change: not timed out or told to stop, and still the run's driver.
  const mayAct = (): void => {
    options.signal?.throwIfAborted();
    options.assertMayAct?.();
  };
  mayAct();

  // A crash between "rmdir Kmsdata" and "rename staging" leaves no Kmsdata: put back an empty one.
  let recreated = false;
  if (await lstat(kmsResolved).then(() => false, (error: unknown) => errnoOf(error) === 'ENOENT')) {
    assertKmsdataName(kmsResolved);
    if (!(await isPlainDirectory(path.dirname(kmsResolved)))) await assertKmsdataPath(kmsResolved);
    await mkdir(kmsResolved);
    recreated = true;
  }
  const dir = await assertKmsdataPath(kmsResolved);
  // The folder must be the one this run knows (pinned at the start, or left by its last restore).
  const pinned = await folderIdentity(dir);
  const expected = options.expected ?? [];
  if (!recreated && expected.length > 0 && !expected.some((id) => sameIdentity(id, pinned))) throw replaced(dir, expected[0]!, pinned);
  const promote = async (): Promise<FolderIdentity> => {
    const stagingIdentity = await folderIdentity(staging);
    mayAct();
    options.beforePromote?.(stagingIdentity);
    const now = await folderIdentity(dir).catch(() => null);
    if (!now || !sameIdentity(now, pinned)) throw replaced(dir, pinned, now);
    // Windows: the copy takes the permissions of the Kmsdata folder it replaces (never moved by
    // the clear, so still there to be read), passed on to every file and folder in it.
    if (isWindows) (await import('../windows/folder-security.js')).copyFolderDacl(dir, staging);
    await promoteStaging(staging, dir);
    return stagingIdentity;
  };
  const entries = await readdir(dir);
  const manifestIsEmpty = manifest.files.length === 0 && manifest.dirs.length === 0;

  if (entries.length > 0 || manifestIsEmpty) {
    const current = await compareToManifest(dir, manifest);
    if (!current.matches) {
      throw new KmsRecoverError('KMSDATA_NOT_EMPTY',
        `Kmsdata is not empty: ${dir} holds ${entries.length} entries that do not match the backup; run the clear step first`,
        { path: dir, entries: entries.length, differences: current.differences.slice(0, 20) });
    }
    mayAct();
    await rm(staging, { recursive: true, force: true });
    await fsyncDir(path.dirname(dir));
    return report(manifest, manifest.files, true, pinned, current.stamp ?? null);
  }

  // A staging folder that already holds exactly the manifest (hashes checked now) only needs the rename.
  if (await isPlainDirectory(staging)) {
    const staged = await compareToManifest(staging, manifest).catch(() => undefined);
    if (staged?.matches) {
      // Its files may never have been flushed (the crash came before the fsyncs), nor given the
      // backup's modes: do both now.
      await keepBackupProtection(await assertBackupPath(backup, dir), staging, manifest, true);
      await fsyncStaging(staging, manifest);
      const identity = await promote();
      // Their protection was set just now: the stamp is taken of the files as they are left.
      return report(manifest, manifest.files, false, identity, (await compareToManifest(dir, manifest, { contents: false })).stamp ?? null);
    }
  }

  const copied: ManifestFile[] = [];
  /** Each copied file's identity and times as the copy left it (copy-hash.ts). */
  const marks: (FileMark | undefined)[] = [];
  const syncs = new FsyncQueue();
  let creates: AheadCreates | undefined;
  let stamp: string | null = null;
  /** The small files whose writes are under way, oldest first, each with the buffer it holds. */
  const small: { index: number; buf: Buffer; done: Promise<CopyOutcome> }[] = [];
  let spares: Buffer[] = [];
  const progress = progressCounter(manifest.fileCount, manifest.totalBytes, options.onProgress);
  const source = await assertBackupPath(backup, dir);
  mayAct();
  let lastAsked = performance.now();
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, PRIVATE_DIR_MODE);
  try {
    await makeDirs(staging, manifest.dirs);
    // In manifest order, into files created ahead (AheadCreates): a large file through the
    // reader's two buffers (copy-hash.ts), a small one read at once into one of SMALL_COPIES
    // buffers and written out while the next are read; each file is flushed in the background
    // (FsyncQueue) while the next ones are copied.
    const reader = newReader();
    const target = (index: number): string => toNative(staging, manifest.files[index]!.path);
    spares = Array.from({ length: SMALL_COPIES }, () => Buffer.allocUnsafe(COPY_BUFFER_BYTES));
    creates = new AheadCreates(manifest.files.length, target);
    // A file once copied, in manifest order: checked against the manifest, flushed in the
    // background, counted, told to the hook; then, at most every MAY_ACT_EVERY_MS, may we go on?
    const copiedOne = async (index: number, file: ManifestFile, outcome: CopyOutcome): Promise<void> => {
      const dst = target(index);
      copied.push(verifyCopy(toNative(source, file.path), dst, file, outcome));
      marks.push(outcome.ok ? outcome.mark : undefined);
      syncs.add(dst);
      progress.done(file.size);
      await options.onFileCopied?.(file.path, index);
      if (performance.now() - lastAsked >= MAY_ACT_EVERY_MS) {
        mayAct();
        lastAsked = performance.now();
      } else {
        options.signal?.throwIfAborted();
      }
    };
    const oldest = async (): Promise<void> => {
      const copy = small.shift()!;
      const outcome = await copy.done;
      spares.push(copy.buf);
      await copiedOne(copy.index, manifest.files[copy.index]!, outcome);
    };
    for (const [index, file] of manifest.files.entries()) {
      options.signal?.throwIfAborted();
      const src = toNative(source, file.path);
      if (file.size < COPY_BUFFER_BYTES) {
        // Read and hashed now; written out in libuv's pool while the next files are read.
        if (spares.length === 0) await oldest();
        const buf = spares.pop()!;
        small.push({ index, buf, done: copySmallAndHash(src, creates.take(index), buf) });
        continue;
      }
      while (small.length > 0) await oldest();
      // Within a large file: its progress, and a stop (Ctrl-C, the time limit) heeded at its next buffer, not at its end.
      const within = (bytes: number): void => {
        options.signal?.throwIfAborted();
        progress.within(Math.min(bytes, file.size));
      };
      await copiedOne(index, file, await copyAndHash(src, creates.take(index), reader, within));
    }
    while (small.length > 0) await oldest();
    // Each file's size and bytes were checked as they were written, and its mark taken as it was
    // closed (the stamp the later checks compare with); the staging folder must hold nothing else.
    stamp = stampOf(copied.map((f, i) => ({ path: f.path, size: f.size, mark: marks[i] })));
    // The files are flushed in libuv's pool while this thread looks at the names.
    const flushed = syncs.drain();
    flushed.catch(() => undefined); // awaited below; a failure before then is settled in the catch
    const differences = await namesDiffer(staging, manifest);
    if (differences.length > 0) {
      throw new KmsRecoverError('RESTORE_MISMATCH',
        `staging folder ${staging} does not match the backup manifest: ${differences.length} differences, first ${differences[0] ?? ''}`,
        { path: staging, mismatches: differences });
    }
    if (manifestDigest(copied, manifest.dirs) !== manifest.digest) {
      throw new KmsRecoverError('RESTORE_MISMATCH', `staging folder ${staging} does not match the backup manifest digest`, { path: staging });
    }
    await flushed;
    await keepBackupProtection(source, staging, manifest, false);
    await fsyncStagingDirs(staging, manifest);
  } catch (error) {
    // The small copies under way close their files first.
    await Promise.all(small.map((copy) => copy.done));
    await creates?.settle();
    await syncs.settle();
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  return report(manifest, copied, false, await promote(), stamp);
}
