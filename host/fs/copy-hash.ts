/**
 * Copies one file while hashing it, in a single read pass: every buffer read from the source goes
 * through SHA-256 and is then written to the destination, so the digest is that of the bytes
 * actually written. Two versions of the same loop: a synchronous one for the copy workers
 * (host/fs/copy-hash-worker.ts; blocking is what a worker thread is for) and an asynchronous one
 * for the main thread (the fallback, and the start of a restore while the workers boot).
 *
 * This module imports node built-ins only, so that a worker starts in a few milliseconds, and
 * reports failures as plain data (a worker cannot post a KmsRecoverError): the caller turns them
 * into BACKUP_CHANGED / FILE_IN_USE / STEP_FAILED naming the file.
 */
import { createHash } from 'node:crypto';
import { closeSync, futimesSync, lstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** One read buffer per copier: large enough that a 5-40 MiB file takes few system calls. */
export const COPY_BUFFER_BYTES = 1024 * 1024;

export interface CopyTask {
  /** Position of the file in the manifest. */
  index: number;
  /** Source (backup) file, opened read-only. */
  src: string;
  /** Destination (staging) file, created exclusively (`wx`): it must not exist yet. */
  dst: string;
}

/**
 * What went wrong, for the caller to name: `missing` / `not-file` (the backup changed), `read`
 * (the source could not be read), `write` (the destination could not be created or written).
 */
export type CopyFailureKind = 'missing' | 'not-file' | 'read' | 'write';

export type CopyOutcome =
  | { ok: true; size: number; sha256: string }
  | { ok: false; kind: CopyFailureKind; code?: string; message: string };

function failure(kind: CopyFailureKind, error?: unknown): CopyOutcome {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return { ok: false, kind, ...(code === undefined ? {} : { code }), message: error === undefined ? kind : String((error as Error).message ?? error) };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The synchronous copy, for a worker thread. `buf` is the worker's reusable read buffer. */
export function copyAndHashSync(src: string, dst: string, buf: Buffer): CopyOutcome {
  let stats: Stats;
  try {
    stats = lstatSync(src);
  } catch (error) {
    return failure(isMissing(error) ? 'missing' : 'read', error);
  }
  if (!stats.isFile()) return failure('not-file');
  let source: number;
  try {
    source = openSync(src, 'r');
  } catch (error) {
    return failure(isMissing(error) ? 'missing' : 'read', error);
  }
  try {
    let target: number;
    try {
      target = openSync(dst, 'wx');
    } catch (error) {
      return failure('write', error);
    }
    let outcome: CopyOutcome | undefined;
    try {
      outcome = pumpSync(source, target, buf, stats);
    } finally {
      try {
        closeSync(target);
      } catch (error) {
        if (outcome === undefined || outcome.ok) outcome = failure('write', error);
      }
    }
    return outcome;
  } finally {
    try { closeSync(source); } catch { /* read-only: nothing to lose */ }
  }
}

function pumpSync(source: number, target: number, buf: Buffer, stats: Stats): CopyOutcome {
  const hash = createHash('sha256');
  let size = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(source, buf, 0, buf.length, size);
    } catch (error) {
      return failure('read', error);
    }
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    try {
      for (let done = 0; done < n;) done += writeSync(target, buf, done, n - done, size + done);
    } catch (error) {
      return failure('write', error);
    }
    size += n;
  }
  try { futimesSync(target, stats.atime, stats.mtime); } catch { /* times are best effort, as before */ }
  return { ok: true, size, sha256: hash.digest('hex') };
}

/** The same copy on the main thread, through the libuv pool. */
export async function copyAndHash(src: string, dst: string, buf: Buffer): Promise<CopyOutcome> {
  let stats: Stats;
  try {
    stats = await lstat(src);
  } catch (error) {
    return failure(isMissing(error) ? 'missing' : 'read', error);
  }
  if (!stats.isFile()) return failure('not-file');
  let source: FileHandle;
  try {
    source = await open(src, 'r');
  } catch (error) {
    return failure(isMissing(error) ? 'missing' : 'read', error);
  }
  try {
    let target: FileHandle;
    try {
      target = await open(dst, 'wx');
    } catch (error) {
      return failure('write', error);
    }
    let outcome: CopyOutcome | undefined;
    try {
      outcome = await pump(source, target, buf, stats);
    } finally {
      try {
        await target.close();
      } catch (error) {
        if (outcome === undefined || outcome.ok) outcome = failure('write', error);
      }
    }
    return outcome;
  } finally {
    await source.close().catch(() => undefined);
  }
}

async function pump(source: FileHandle, target: FileHandle, buf: Buffer, stats: Stats): Promise<CopyOutcome> {
  const hash = createHash('sha256');
  let size = 0;
  for (;;) {
    let n: number;
    try {
      n = (await source.read(buf, 0, buf.length, size)).bytesRead;
    } catch (error) {
      return failure('read', error);
    }
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    try {
      for (let done = 0; done < n;) done += (await target.write(buf, done, n - done, size + done)).bytesWritten;
    } catch (error) {
      return failure('write', error);
    }
    size += n;
  }
  await target.utimes(stats.atime, stats.mtime).catch(() => undefined);
  return { ok: true, size, sha256: hash.digest('hex') };
}
