/**
 * Copies one file while hashing it, in a single read pass: every buffer read from the source goes
 * through SHA-256 and is then written to the destination, so the digest is that of the bytes
 * actually written. The restore's only copy loop (restore-kmsdata.ts); the clear's ledger hashes
 * the files it records with the same loop, writing nothing (quarantine-ledger.ts).
 *
 * The reads and writes are synchronous calls into one reusable buffer: a Kmsdata is a few database
 * and log files of a few MiB and many small ones, and a promise per read and per write cost more
 * than the system calls themselves and made the heap grow with the tree (bench/memory.mjs). Every
 * TURN_MS, within a file or between two, the event loop gets its turn (`Turns`): the lease
 * heartbeat, the step's time limit, Ctrl-C, and the completions of the background fsyncs.
 *
 * Failures come back as plain data: the caller turns them into BACKUP_CHANGED / FILE_IN_USE /
 * STEP_FAILED naming the file.
 */
import { createHash } from 'node:crypto';
import { closeSync, futimesSync, lstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { errnoOf } from './file-errors.js';

/** One read buffer per copy: large enough that a 5-40 MiB file takes few system calls. */
export const COPY_BUFFER_BYTES = 1024 * 1024;
/** The longest the copy keeps the event loop to itself. */
const TURN_MS = 5;

/**
 * What went wrong, for the caller to name: `missing` / `not-file` (the backup changed), `read`
 * (the source could not be read), `write` (the destination could not be created or written).
 */
export type CopyFailureKind = 'missing' | 'not-file' | 'read' | 'write';

export type CopyOutcome =
  | { ok: true; size: number; sha256: string }
  | { ok: false; kind: CopyFailureKind; code?: string; message: string };

function failure(kind: CopyFailureKind, error?: unknown): CopyOutcome {
  const code = errnoOf(error);
  return { ok: false, kind, ...(code === undefined ? {} : { code }), message: error === undefined ? kind : String((error as Error).message ?? error) };
}

function isMissing(error: unknown): boolean {
  const code = errnoOf(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The event loop's turns during copies: one is due once TURN_MS have passed since the last. */
export class Turns {
  private last = performance.now();

  get due(): boolean {
    return performance.now() - this.last >= TURN_MS;
  }

  async take(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}

/**
 * What a series of copies reads through, one file at a time: one buffer, and the event loop's
 * turns. One per restore, per clear, per removal of a quarantine.
 */
export interface Reader {
  buf: Buffer;
  turns: Turns;
}

export function newReader(): Reader {
  return { buf: Buffer.allocUnsafe(COPY_BUFFER_BYTES), turns: new Turns() };
}

/**
 * Copies `src` (a regular file, opened read-only) to `dst` (created exclusively: it must not
 * exist yet), hashing every byte on its way. The destination keeps the source's times.
 */
export async function copyAndHash(src: string, dst: string, reader: Reader): Promise<CopyOutcome> {
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
      outcome = await pump(source, target, reader);
      if (outcome.ok) {
        try { futimesSync(target, stats.atime, stats.mtime); } catch { /* times are best effort, as before */ }
      }
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

/** The size and SHA-256 of the open file `fd`, read from its start to its end; nothing written. */
export function hashOpenFile(fd: number, reader: Reader): Promise<CopyOutcome> {
  return pump(fd, null, reader);
}

/** Reads `source` from its start to its end, hashing every byte, and writes it to `target` if given. */
async function pump(source: number, target: number | null, { buf, turns }: Reader): Promise<CopyOutcome> {
  const hash = createHash('sha256');
  let size = 0;
  for (;;) {
    if (turns.due) await turns.take();
    let n: number;
    try {
      n = readSync(source, buf, 0, buf.length, size);
    } catch (error) {
      return failure('read', error);
    }
    if (n === 0) break;
    hash.update(n === buf.length ? buf : buf.subarray(0, n));
    if (target !== null) {
      try {
        for (let done = 0; done < n;) done += writeSync(target, buf, done, n - done, size + done);
      } catch (error) {
        return failure('write', error);
      }
    }
    size += n;
  }
  return { ok: true, size, sha256: hash.digest('hex') };
}
